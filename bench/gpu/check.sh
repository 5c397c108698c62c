#!/usr/bin/env bash
# GPU check (issue 14): on a machine with an NVIDIA GPU, CUDA 13 (libcudart.so.13, cuBLAS 13, cuRAND 10) and cuDNN 9 libraries, in under 10 minutes:
#   1. builds the GPU flavour (ONNX Runtime's Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0 instead of the CPU package);
#   2. runs the device tests: the ILGPU kernels on the CUDA accelerator (AMALGAM_DEVICE_TESTS=cuda) and the
#      ONNX Runtime session tests with the CUDA provider present;
#   3. runs layer-wise AdaMerging on the ViT-B/32-shaped benchmark models on the CPU, with --device cuda and
#      the host step (step=host: ORT on CUDA, theta and gradients bound in host memory), and with --device cuda
#      and the device step (step=device: ILGPU kernels, theta and gradients in device buffers ORT binds in
#      the primary context ORT uses, copied to and from ILGPU's own context with cuMemcpyPeerAsync; unverified), compares the learned coefficients with the CPU run's, and prints the step times.
# Until this script has run on such a machine, every GPU result in README is unverified. It needs the .NET SDK and
# NuGet there; on a GPU machine with neither, bench/gpu/bundle.sh + bench/gpu/device-check.sh cover the ILGPU kernels.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/amalgam-gpu-check}"
mkdir -p "$out"
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "GPU flavour build"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi not found"
./build.sh --target=Build --gpu

step "device tests (ILGPU on CUDA, ORT CUDA provider)"
AMALGAM_DEVICE_TESTS=cuda dotnet test tests/Kernels.Tests -c Release --no-build --filter "FullyQualifiedName~Device" -p:AmalgamGpu=true
dotnet test tests/OnnxIO.Tests -c Release --no-build --filter "FullyQualifiedName~Runtime" -p:AmalgamGpu=true

step "AdaMerging on ViT-B/32-shaped models: CPU vs --device cuda (host step, device step)"
models="${AMALGAM_VITB32_DIR:-$HOME/.cache/amalgam/bench/vitb32}"
if [ ! -f "$models/base.onnx" ]; then
  echo "making the ViT-B/32-shaped models (3 tasks, 64 samples) in $models"
  /usr/bin/python3 bench/models/make_vitb32.py "$models" --tasks 3 --samples 64
fi
args=(merge --method adamerging --set granularity=layer --set steps=20 --base "$models/base.onnx" --private '^heads\.')
for k in 1 2 3; do args+=(--model "$models/task_$k.onnx" --data "$models/data_$k.npy"); done
run() {  # name, --device, step
  /usr/bin/time -f "$1: %e s wall, %U s user, %S s system" \
    artifacts/amalgam "${args[@]}" --device "$2" --set step="$3" --report "$out/$1.json" --out "$out/merged-$1"
}
run cpu cpu host
run cuda-host-step cuda host
run cuda-device-step cuda device || echo "cuda-device-step FAILED"
for dev in "cpu host" "cuda host" "cuda device"; do
  set -- $dev
  dotnet run -c Release --no-build --project bench -p:AmalgamGpu=true -- adamerging-step --base "$models/base.onnx" $(for k in 1 2 3; do echo --model "$models/task_$k.onnx" --data "$models/data_$k.npy"; done) --private '^heads\.' --steps 3 --device "$1" --step "$2"
done
python3 - "$out" <<'PY' || echo "(python3 missing: compare lambdas.values in the three reports by hand)"
import json, sys
load = lambda n: json.load(open(f"{sys.argv[1]}/{n}.json"))
flat = lambda c: [x for row in c for x in (row if isinstance(row, list) else [row])]
cpu = load("cpu")
import os
for name in ("cuda-host-step", "cuda-device-step"):
    if not os.path.exists(f"{sys.argv[1]}/{name}.json"):
        print(f"{name}: no report (the run failed)")
        continue
    r = load(name)
    d = max(abs(x - y) for x, y in zip(flat(cpu["lambdas"]["values"]), flat(r["lambdas"]["values"])))
    print(f"{name}: coefficients max |cpu - {name}| = {d:.3g}; seconds cpu {cpu['seconds']:.1f}, {name} {r['seconds']:.1f}")
PY
