#!/usr/bin/env python3
"""Writes the bad-input cases of tests/bad/: each NAME.onnx (or other file) comes
with NAME.expect (a substring the single error line must contain) and optionally
NAME.args (the vitc command line, with MODEL standing for the file).
Run with /usr/bin/python3 (Debian's python3-onnx); the outputs are committed."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "bad")


def model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "bad", inputs, outputs, initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def vi(name, shape, dt=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dt, shape)


def write(name, expect, data=None, m=None, args=None):
    path = os.path.join(OUT, name)
    if m is not None:
        data = m.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    with open(os.path.join(OUT, os.path.splitext(name)[0] + ".expect"), "w") as f:
        f.write(expect + "\n")
    if args:
        with open(os.path.join(OUT, os.path.splitext(name)[0] + ".args"), "w") as f:
            f.write(args + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    w = numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    good = model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [vi("x", [2, 3])], [vi("y", [2, 4])], [w])
    write("truncated.onnx", "not a valid ONNX model", data=good.SerializeToString()[:40])
    write("not_protobuf.onnx", "not a valid ONNX model or IR text", data=b"this is plain text, not a protobuf model\n")
    write("empty.onnx", "not a valid ONNX model", data=b"")
    write("missing_initializer.onnx", "node 'mm' (MatMul): input 'w' is not defined",
          m=model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [vi("x", [2, 3])], [vi("y", [2, 4])]))
    write("dangling_input.onnx", "node 'add' (Add): input 'ghost' is not defined",
          m=model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")], [vi("x", [2, 3])], [vi("y", [2, 3])]))
    bad_w = numpy_helper.from_array(np.ones((4, 5), np.float32), "w")
    write("shape_mismatch.onnx", "node 'mm' (MatMul): inner dimensions differ",
          m=model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [vi("x", [2, 3])], [vi("y", [2, 5])], [bad_w]))
    write("unsupported_op.onnx", "node 'hm' (Hardmax): unsupported op",
          m=model([helper.make_node("Hardmax", ["x"], ["y"], name="hm")], [vi("x", [2, 3])], [vi("y", [2, 3])]))
    # Every op type vitc lacks is named in the one error, with its node count and first node, most used first
    # (ties in node order); another domain's op counts too, and an unnamed node goes by OpType_INDEX.
    def node(op, x, y, name=None, domain=None):
        return helper.make_node(op, [x], [y], name=name, domain=domain)
    nodes = [node("Hardmax", "x", "a", "hm0"), node("LpNormalization", "a", "b", "lp0"), node("Hardmax", "b", "c", "hm1"),
             node("Det", "c", "d"), node("Hardmax", "d", "e", "hm2"), node("FusedGelu", "e", "f", "fg", "com.microsoft"),
             node("LpNormalization", "f", "g", "lp1"), node("Relu", "g", "y", "r")]
    m = model(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])])
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    write("unsupported_ops.onnx", "unsupported_ops.onnx: 4 unsupported op types: Hardmax (3 nodes, first 'hm0'), "
          "LpNormalization (2 nodes, first 'lp0'), Det (1 node: 'Det_3'), com.microsoft.FusedGelu (1 node: 'fg')",
          m=m)
    write("unsupported_dtype.onnx", "DOUBLE",
          m=model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2, 3], TensorProto.DOUBLE)],
                  [vi("y", [2, 3], TensorProto.DOUBLE)]))
    write("unpinned_dim.onnx", "symbolic",
          m=model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", ["N", 3])], [vi("y", ["N", 3])]))
    write("pin_wrong_rank.onnx", "rank",
          m=model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", ["N", 3])], [vi("y", ["N", 3])]),
          args="ir MODEL --input-shape x=2x3x4")
    write("cyclic.onnx", "cycle",
          m=model([helper.make_node("Add", ["x", "b"], ["a"], name="first"),
                   helper.make_node("Relu", ["a"], ["b"], name="second")], [vi("x", [2, 3])], [vi("b", [2, 3])]))
    write("bad_opset.onnx", "opset",
          m=model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2, 3])], [vi("y", [2, 3])], opset=7))
    write("slice_opset9.onnx", "node 'sl' (Slice): Slice before opset 10 is not supported",
          m=model([helper.make_node("Slice", ["x"], ["y"], name="sl", starts=[0], ends=[1], axes=[0])],
                  [vi("x", [2, 3])], [vi("y", [1, 3])], opset=9))
    write("reshape_mismatch.onnx", "node 'rs' (Reshape): cannot reshape",
          m=model([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], [vi("x", [2, 3])], [vi("y", [5])],
                  [numpy_helper.from_array(np.array([5], np.int64), "s")]))
    # Files for `vitc run`: a good model with a bad .npy input, and with a wrong-shaped one.
    write("good_model.onnx", "", m=good)
    os.remove(os.path.join(OUT, "good_model.expect"))
    write("garbage.npy", "not a .npy file", data=b"garbage, not numpy\n",
          args="run good_model.onnx --input MODEL --output OUT")
    np.save(os.path.join(OUT, "wrong_shape.npy"), np.ones((3, 3), np.float32))
    with open(os.path.join(OUT, "wrong_shape.expect"), "w") as f:
        f.write("is f32[3,3], input 'x' of the model is f32[2,3]\n")
    with open(os.path.join(OUT, "wrong_shape.args"), "w") as f:
        f.write("run good_model.onnx --input MODEL --output OUT\n")
    with open(os.path.join(OUT, "bad_ir.vir"), "w") as f:
        f.write('graph "bad_ir.vir" opset 17\ninput %x: f32[2,3]\n%y: f32[2,3] = frobnicate(%x) @"n"\noutput %y\n')
    with open(os.path.join(OUT, "bad_ir.expect"), "w") as f:
        f.write("line 3\n")
    # A compiled model (by its name) takes no optimizer options, wherever they stand.
    write("run_so_flag.so", "unexpected argument '--time-passes' for a compiled model",
          data=b"not a shared library\n", args="run --time-passes MODEL --input x.npy")
    # test-onnx --select: a case whose model cannot be read is counted (as a failure), not dropped.
    os.makedirs(os.path.join(OUT, "select_unreadable.case"), exist_ok=True)
    write("select_unreadable.case/model.onnx", "", data=b"\x00 not a model")
    os.remove(os.path.join(OUT, "select_unreadable.case", "model.expect"))
    with open(os.path.join(OUT, "select_unreadable.expect"), "w") as f:
        f.write("test-onnx: 1 of 1 cases failed\n")
    with open(os.path.join(OUT, "select_unreadable.args"), "w") as f:
        f.write("test-onnx --select MODEL\n")
    # IR text: --batch does not apply; `vitc compile` with a bad CPU or an unwritable output leaves nothing.
    ok_ir = 'graph "ok.vir" opset 17\ninput %x: f32[2,3]\n%y: f32[2,3] = relu(%x) @"r"\noutput %y\n'
    for name, args, expect in [("ir_batch", "ir MODEL --batch 2", "IR text has static shapes"),
                               ("compile_bad_cpu", "compile MODEL -o OUT --target-cpu bogus",
                                "unknown --target-cpu 'bogus'"),
                               ("compile_unwritable", "compile MODEL -o /nonexistent/dir/model.so",
                                "/nonexistent/dir/model.so: cannot write")]:
        write(name + ".vir", expect, data=ok_ir.encode(), args=args)
    # Sizes past 2^40 bytes are refused with the value named, never wrapped or crashed on.
    big = helper.make_tensor("s", TensorProto.INT64, [3], [2 ** 21] * 3)
    cos = helper.make_node("ConstantOfShape", ["s"], ["c"], name="cos",
                           value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0]))
    write("huge_constant_of_shape.onnx", "node 'cos' (ConstantOfShape): 'c' (f32[2097152,2097152,2097152]) is too large",
          m=model([cos, helper.make_node("Add", ["c", "x"], ["y"], name="add")], [vi("x", [1])], [vi("y", None)],
                  [big]), args="compile MODEL -o OUT")
    sh = helper.make_tensor("sh", TensorProto.INT64, [2], [4, 2 ** 62 + 1])
    write("huge_reshape.onnx", "node 'rs' (Reshape): 'y' (f32[4,4611686018427387905]) is too large",
          m=model([helper.make_node("Reshape", ["x", "sh"], ["y"], name="rs")], [vi("x", [4])], [vi("y", None)],
                  [sh]))
    write("huge_input.onnx", "'x' (f32[1099511627776,1099511627776]) is too large",
          m=model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [2 ** 40, 2 ** 40])], [vi("y", None)]),
          args="compile MODEL -o OUT")
    write("huge_batch.onnx", "'x' (f32[99999999999999,3]) is too large",
          m=model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", ["N", 3])], [vi("y", None)]),
          args="ir MODEL --batch 99999999999999 --stats")


if __name__ == "__main__":
    main()
