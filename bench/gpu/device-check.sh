#!/usr/bin/env bash
# On a GPU machine with no .NET SDK (a device machine this workplace lends): unpacks the bundle bench/gpu/bundle.sh
# made and runs, on CUDA, (1) the ILGPU device tests (tests/Kernels.Tests/Device, the fake-driver tests excepted:
# the AdaMerging step's kernels, Adam, the task-arithmetic and TIES merge kernels and their determinism, against the
# host's SIMD kernels) and (2) the kernels' times on ViT-B/32-shaped tensors as ratios to a device copy timed in
# the same run. About a minute. From this machine, with the bundle made:
#   run(command: "bench/gpu/device-check.sh", carry: [".gpu-bundle"], timeout_s: 300)
# Arguments go to the timings: K task vectors (default 8) and a fraction of the ViT-B/32 sizes (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
bundle=.gpu-bundle/device-check.tar.xz
[ -f "$bundle" ] || { echo "device-check: $bundle is missing: run bench/gpu/bundle.sh first (where the .NET SDK is)" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tar -xJf "$bundle" -C "$dir"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi not found"
# ILGPU loads the driver's libcuda.so.1; container images often keep it outside the loader's default path.
if [ -d /usr/local/nvidia/lib64 ]; then export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
export AMALGAM_DEVICE_TESTS="${AMALGAM_DEVICE_TESTS:-cuda}"
status=0
"$dir/app/amalgam-device-check" || status=$?
"$dir/app/amalgam-device-check" --times "$@" || status=$?
exit $status
