#!/usr/bin/python3
"""Export ViT-family models vitc's tests never saw, for a sweep (issue 12's "unseen exports").

Usage
-----
    /usr/bin/python3 tools/sweep_family.py --out DIR [--only NAME[,NAME...]] [--list]

Writes DIR/NAME.onnx, NAME.input.npy, NAME.output.npy (torch) and NAME.input_b2.npy / NAME.output_b2.npy
(dynamic batch pinned to 2) with tools/export_vit.py's conventions (seeded random weights, no download),
for other sizes, resolutions and opsets of the families the tests cover: then
`scripts/test-models.sh build/vitc DIR` checks each against torch interpreted, compiled and at batch 2,
and `vitc ir DIR/NAME.onnx --batch 1 --stats` shows what fused. Several hundred MB per model; minutes each.
"""
import argparse
import os
import sys

import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_vit  # noqa: E402  (the exporter and its conventions)

# name -> (constructor, opset, batch, image size, dynamic batch), as in export_vit.py
SWEEP = {
    # Swin at another size and at a resolution whose token grid is not a multiple of the window (64 x 64
    # tokens, 7 x 7 windows: stage 1 pads to 70 x 70); opset 13 has no LayerNormalization node.
    "swin_s_op17": (lambda: torchvision.models.swin_s(weights=None), 17, 1, 224, True),
    "swin_t_256_op17": (lambda: torchvision.models.swin_t(weights=None), 17, 1, 256, True),
    "swin_t_op13": (lambda: torchvision.models.swin_t(weights=None), 13, 1, 224, True),
    # ViT with 32-pixel patches (49 tokens + class token) and MaxViT at opset 13.
    "vit_b32_op17": (lambda: torchvision.models.vit_b_32(weights=None), 17, 1, 224, True),
    "maxvit_t_op13": (lambda: torchvision.models.maxvit_t(weights=None), 13, 1, 224, True),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    args = ap.parse_args()
    if args.list:
        print("\n".join(SWEEP))
        return 0
    if not args.out:
        ap.error("--out is required")
    names = args.only.split(",") if args.only else list(SWEEP)
    bad = [n for n in names if n not in SWEEP]
    if bad:
        ap.error("unknown model(s) %s; choose from %s" % (bad, ", ".join(SWEEP)))
    os.makedirs(args.out, exist_ok=True)
    for n in names:
        export_vit.export_one(n, SWEEP[n], args.out, False, [2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
