#!/usr/bin/env bash
# Packs the device tests and kernel timings (tests/DeviceCheck) as one self-contained linux-x64 program, for a GPU
# machine that has the NVIDIA driver but no .NET SDK and no network (the device machines this workplace lends: the
# working tree plus carried paths may total 64 MiB). Writes .gpu-bundle/device-check.tar.xz (about 40 MB; ignored by
# git); bench/gpu/device-check.sh runs it there. Run here, where the SDK and the NuGet mirror are:
#   bench/gpu/bundle.sh
# ONNX Runtime's CUDA provider cannot travel this way (libonnxruntime_providers_cuda.so 1.31.0 is 271 MB, 186 MB
# compressed), so --device cuda for ORT sessions needs bench/gpu/check.sh on a machine with the SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu-bundle
stage=artifacts/device-check
rm -rf "$stage" && mkdir -p "$out" "$stage"
echo "publishing tests/DeviceCheck self-contained for linux-x64 into $stage/app"
dotnet publish tests/DeviceCheck -c Release -r linux-x64 --self-contained -o "$stage/app" -v quiet -nologo
echo "compressing into $out/device-check.tar.xz"
tar -cJf "$out/device-check.tar.xz.tmp" -C "$stage" app
mv "$out/device-check.tar.xz.tmp" "$out/device-check.tar.xz"
ls -l "$out/device-check.tar.xz"
