#!/usr/bin/python3
"""Compare two .npy arrays: compare_npy.py A.npy B.npy [--atol 1e-4]

Prints `max_abs_err X` and exits 0 if the shapes match and max |A - B| <= atol,
1 otherwise (shape mismatch, NaN/Inf difference, or error above atol).
Plain numpy; used only by the optional model targets, not by the C tests.
"""
import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description="compare two .npy files")
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--atol", type=float, default=1e-4)
    args = ap.parse_args()
    a = np.load(args.a)
    b = np.load(args.b)
    if a.shape != b.shape:
        print("shape mismatch %s vs %s" % (list(a.shape), list(b.shape)))
        print("max_abs_err inf")
        return 1
    if a.size == 0:
        print("max_abs_err 0")
        return 0
    err = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
    print("max_abs_err %g" % err)
    # NaN compares false, so a NaN error fails too.
    return 0 if err <= args.atol else 1


if __name__ == "__main__":
    sys.exit(main())
