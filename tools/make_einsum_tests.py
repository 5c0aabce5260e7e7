#!/usr/bin/python3
"""Writes the Einsum import tests (vitc lowers Einsum at import, frontend/onnx_einsum.c).

Usage: /usr/bin/python3 tools/make_einsum_tests.py [--out tests]

  tests/einsum/NAME/model.onnx, test_data_set_0/{input_N,output_0}.pb
      ONNX backend-test folders (float32; libonnx-testdata's einsum cases are
      float64, which vitc does not compute in), run by `vitc test-onnx` and
      `vitc test-onnx --compiled`: attention spellings, matrix products,
      transposes, reductions, outer products, implicit outputs.
  tests/einsum/attention/   one self-attention block (packed qkv, heads split
      by Reshape, scores and P V as Einsum, out-projection and residual) that
      must fuse into one attention and one linear (tests/CMakeLists.txt).
  tests/bad/einsum_*.onnx + .expect
      what the lowering refuses: an ellipsis, a diagonal, three operands.

Deterministic (seeded numpy); the references come from numpy.einsum.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CASES = [
    ("attn_scores", "bhid,bhjd->bhij", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("attn_pv", "bhij,bhjd->bhid", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("attn_scores_bnhd", "bnhd,bmhd->bhnm", [(2, 4, 3, 5), (2, 6, 3, 5)]),
    ("attn_pv_bnhd", "bhnm,bmhd->bnhd", [(2, 3, 4, 6), (2, 6, 3, 5)]),
    ("matmul", "ij,jk->ik", [(3, 4), (4, 5)]),
    ("matmul_implicit", "ij,jk", [(3, 4), (4, 5)]),
    ("linear_wt", "bnc,dc->bnd", [(2, 3, 4), (5, 4)]),
    ("linear_out_transposed", "bnc,cd->bdn", [(2, 3, 4), (4, 5)]),
    ("batch_matmul", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("two_free_each", "abc,cde->abde", [(2, 3, 4), (4, 5, 6)]),
    ("two_contracted", "abcd,cd->ab", [(2, 3, 4, 5), (4, 5)]),
    ("contracted_reordered", "xyz,zy->x", [(2, 3, 4), (4, 3)]),
    ("inner", "i,i->", [(5,), (5,)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("outer_2d", "ab,cd->abcd", [(2, 3), (4, 5)]),
    ("hadamard", "ij,ij->ij", [(3, 4), (3, 4)]),
    ("sum_both", "ik,jk->", [(3, 4), (5, 4)]),
    ("matvec", "nc,c->n", [(3, 4), (4,)]),
    ("vecmat", "c,nc->n", [(4,), (3, 4)]),
    ("transpose", "ij->ji", [(3, 4)]),
    ("transpose_3d", "ijk->kji", [(2, 3, 4)]),
    ("implicit_sorted", "ji", [(3, 4)]),
    ("identity", "ij", [(3, 4)]),
    ("sum_all", "ij->", [(3, 4)]),
    ("sum_row", "ij->i", [(3, 4)]),
    ("spaces", "a b c, c d -> a b d", [(2, 3, 4), (4, 5)]),
]

BAD = [
    ("einsum_ellipsis", "...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)], "an ellipsis ('...') is not supported"),
    ("einsum_diagonal", "ii->i", [(3, 3)], "repeated within one operand (a diagonal) is not supported"),
    ("einsum_three", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)], "more operands are not supported"),
]


def model_of(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "einsum", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_einsum_tests")
    m.ir_version = 7
    return m


def write_case(d, m, xs, ys):
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "model.onnx"))
    for i, (name, x) in enumerate(xs):
        onnx.save_tensor(numpy_helper.from_array(x, name), os.path.join(d, "test_data_set_0", "input_%d.pb" % i))
    for i, (name, y) in enumerate(ys):
        onnx.save_tensor(numpy_helper.from_array(np.asarray(y, np.float32), name),
                         os.path.join(d, "test_data_set_0", "output_%d.pb" % i))


def einsum_case(eq, shapes, rng):
    xs = [("x%d" % i, rng.standard_normal(s).astype(np.float32)) for i, s in enumerate(shapes)]
    y = np.einsum(eq.replace(" ", ""), *[x for _, x in xs]).astype(np.float32)
    node = helper.make_node("Einsum", [n for n, _ in xs], ["y"], equation=eq)
    m = model_of([node], [helper.make_tensor_value_info(n, TensorProto.FLOAT, x.shape) for n, x in xs],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, y.shape)])
    return m, xs, [("y", y)]


def attention_case(rng):
    """x [B,N,C] -> qkv -> heads [B,N,H,D] -> einsum scores * scale -> softmax -> einsum P V -> proj + x."""
    B, N, C, H = 2, 5, 8, 2
    D = C // H
    w = (rng.standard_normal((C, 3 * C)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(3 * C) * 0.1).astype(np.float32)
    wo = (rng.standard_normal((C, C)) * 0.3).astype(np.float32)
    x = rng.standard_normal((B, N, C)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w_qkv"), numpy_helper.from_array(b, "b_qkv"),
             numpy_helper.from_array(wo, "w_out"),
             numpy_helper.from_array(np.array([C, C, C], np.int64), "sizes"),
             numpy_helper.from_array(np.array([B, N, H, D], np.int64), "heads_shape"),
             numpy_helper.from_array(np.array([B, N, C], np.int64), "merged_shape"),
             numpy_helper.from_array(np.array(D ** -0.5, np.float32), "scale")]
    nodes = [
        helper.make_node("MatMul", ["x", "w_qkv"], ["qkv0"]),
        helper.make_node("Add", ["qkv0", "b_qkv"], ["qkv"]),
        helper.make_node("Split", ["qkv", "sizes"], ["q0", "k0", "v0"], axis=2),
        helper.make_node("Reshape", ["q0", "heads_shape"], ["q"]),
        helper.make_node("Reshape", ["k0", "heads_shape"], ["k"]),
        helper.make_node("Reshape", ["v0", "heads_shape"], ["v"]),
        helper.make_node("Einsum", ["q", "k"], ["s0"], equation="bnhd,bmhd->bhnm"),
        helper.make_node("Mul", ["s0", "scale"], ["s"]),
        helper.make_node("Softmax", ["s"], ["p"], axis=-1),
        helper.make_node("Einsum", ["p", "v"], ["o"], equation="bhnm,bmhd->bnhd"),
        helper.make_node("Reshape", ["o", "merged_shape"], ["om"]),
        helper.make_node("MatMul", ["om", "w_out"], ["y0"]),
        helper.make_node("Add", ["y0", "x"], ["y"]),
    ]
    m = model_of(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                 [helper.make_tensor_value_info("y", TensorProto.FLOAT, x.shape)], inits)
    qkv = x @ w + b
    q, k, v = (t.reshape(B, N, H, D) for t in np.split(qkv, 3, axis=2))
    s = np.einsum("bnhd,bmhd->bhnm", q, k) * np.float32(D ** -0.5)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    y = np.einsum("bhnm,bmhd->bnhd", p, v).reshape(B, N, C) @ wo + x
    return m, [("x", x)], [("y", y)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")))
    args = ap.parse_args()
    rng = np.random.default_rng(20240607)
    root = os.path.join(args.out, "einsum")
    for name, eq, shapes in CASES:
        write_case(os.path.join(root, name), *einsum_case(eq, shapes, rng))
    write_case(os.path.join(root, "attention"), *attention_case(rng))
    for name, eq, shapes, expect in BAD:
        names = ["x%d" % i for i in range(len(shapes))]
        node = helper.make_node("Einsum", names, ["y"], equation=eq)
        m = model_of([node], [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip(names, shapes)],
                     [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
        onnx.save(m, os.path.join(args.out, "bad", name + ".onnx"))
        with open(os.path.join(args.out, "bad", name + ".expect"), "w") as f:
            f.write(expect + "\n")
    print("wrote %d einsum cases, the attention block and %d bad inputs under %s" % (len(CASES), len(BAD), args.out))


if __name__ == "__main__":
    main()
