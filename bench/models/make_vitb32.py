#!/usr/bin/python3
"""Write a ViT-B/32-shaped CLIP image tower with random weights, K fine-tuned-looking copies and
unlabeled inputs, for the AdaMerging and CAT benchmarks (never committed: ~350 MB per model).

    /usr/bin/python3 bench/models/make_vitb32.py [OUT_DIR] [--tasks K] [--samples N]

OUT_DIR defaults to ~/.cache/amalgam/bench/vitb32. Writes base.onnx, task_<k>.onnx (k = 1..K),
data_<k>.npy (float32 [N, 3, 224, 224]). Shapes follow OpenAI CLIP ViT-B/32's image tower (patch 32,
width 768, 12 layers, 12 heads, embedding 512) plus a 10-class head renamed `heads.head.weight`/`heads.head.bias` as in torchvision's ViT
(mark it --private '^heads\.'). Task k = base + tau_k with tau_k ~ N(0, (0.01 * std of the tensor)^2) per
tensor, and its own random head. Opset 14 (LayerNorm decomposed, as older CLIP exports). Seeded.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures"))
from make_fixtures import ClipVisionTiny, randomise_norms  # noqa: E402


def rename_head(m):
    """head.* -> heads.head.* (torchvision's name, which the benchmarks' --private expects)."""
    names = {i.name: "heads." + i.name for i in m.graph.initializer if i.name.startswith("head.")}
    for i in m.graph.initializer:
        i.name = names.get(i.name, i.name)
    for n in m.graph.node:
        for j, x in enumerate(n.input):
            if x in names:
                n.input[j] = names[x]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=os.path.expanduser("~/.cache/amalgam/bench/vitb32"))
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--samples", type=int, default=64)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = ClipVisionTiny(image=224, patch=32, width=768, layers=12, heads=12, embed_dim=512, classes=10)
    randomise_norms(model, gen)
    pixels = torch.randn(2, 3, 224, 224, generator=gen)
    base_path = os.path.join(args.out, "base.onnx")
    torch.onnx.export(model, (pixels,), base_path, opset_version=14, input_names=["pixel_values"],
                      output_names=["logits"], dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    base = onnx.load(base_path)
    rename_head(base)
    onnx.save(base, base_path)
    print(f"base.onnx: {sum(np.prod(i.dims) for i in base.graph.initializer) / 1e6:.1f}M parameters")
    rng = np.random.default_rng(0)
    for k in range(1, args.tasks + 1):
        m = onnx.load(base_path)
        for init in m.graph.initializer:
            if init.data_type != onnx.TensorProto.FLOAT:
                continue
            w = onnx.numpy_helper.to_array(init)
            if init.name.startswith("heads.head."):
                w = (rng.standard_normal(w.shape) * 0.05).astype(np.float32)
            else:
                scale = 0.01 * (float(w.std()) if w.size > 1 else 0.0) + 1e-4
                w = (w + rng.standard_normal(w.shape) * scale).astype(np.float32)
            init.CopyFrom(onnx.numpy_helper.from_array(w, init.name))
        onnx.save(m, os.path.join(args.out, f"task_{k}.onnx"))
        data = rng.standard_normal((args.samples, 3, 224, 224)).astype(np.float32)
        np.save(os.path.join(args.out, f"data_{k}.npy"), data)
        print(f"task_{k}.onnx, data_{k}.npy")


if __name__ == "__main__":
    main()
