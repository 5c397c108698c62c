#!/usr/bin/env bash
# Entry point for every build task: ./build.sh --target=Bootstrap|Build|Test|Bench|Demo
# Restores the Cake tool pinned in dotnet-tools.json, then runs build.cake with the same arguments.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v dotnet >/dev/null 2>&1; then
  echo "build.sh: the .NET 10 SDK ('dotnet') is not on PATH; install it first." >&2
  exit 1
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
