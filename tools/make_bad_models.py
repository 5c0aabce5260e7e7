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
    # Negative dims where none is allowed and ranks past 8, in graph inputs, initializers, shape operands
    # and results (the importer and shape inference refuse them alike for ir, run and compile: each core
    # case is written for `ir` and, as NAME_compile, for `compile`).
    def i64(name, vals):
        return numpy_helper.from_array(np.array(vals, np.int64), name)

    def relu_model(shape, name="x"):
        return model([helper.make_node("Relu", [name], ["y"], name="r")], [vi(name, shape)], [vi("y", None)])

    def unary(op, shape_init, x_shape=(2, 1), **attrs):
        return model([helper.make_node(op, ["x", "s"], ["y"], name="t", **attrs)], [vi("x", list(x_shape))],
                     [vi("y", None)], [shape_init])

    def cos_model(shape):
        return model([helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos")], [], [vi("y", None)],
                     [i64("s", shape)])

    neg_w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, -3])
    sizes = [
        ("rank9_input", "rank9_input.onnx: input 'x' has rank 9, vitc supports at most 8", relu_model([1] * 9)),
        ("negative_dim_input", "negative_dim_input.onnx: input 'x' dim 1 is negative", relu_model([2, -3])),
        ("rank9_initializer", "initializer 'w' has rank 9, vitc supports at most 8",
         model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [1])], [vi("y", None)],
               [numpy_helper.from_array(np.ones([1] * 9, np.float32), "w")])),
        ("negative_dim_initializer", "initializer 'w' has negative dim -3",
         model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [2, 3])], [vi("y", None)],
               [neg_w])),
        ("constant_of_shape_negative",
         "node 'cos' (ConstantOfShape): shape entry 1 is -1: a dimension cannot be negative", cos_model([2, -1])),
        ("reshape_below_minus_one", "node 't' (Reshape): shape entry 0 is -2: only -1 (inferred) may be negative",
         unary("Reshape", i64("s", [-2, 3]), (2, 3))),
        ("expand_negative", "node 't' (Expand): shape entry 1 is -3: a dimension cannot be negative",
         unary("Expand", i64("s", [2, -3]))),
        ("unsqueeze_rank9", "node 't' (Unsqueeze): result has rank 9, vitc supports at most 8",
         unary("Unsqueeze", i64("s", [0]), [1] * 8)),
        ("reshape_rank9", "node 't' (Reshape): shape has 9 entries, vitc supports at most rank 8",
         unary("Reshape", i64("s", [1] * 9), [1] * 8)),
    ]
    for name, expect, m in sizes:
        write(name + ".onnx", expect, m=m)
        write(name + "_compile.onnx", expect.replace(name + ".onnx", name + "_compile.onnx"), m=m,
              args="compile MODEL -o OUT")
    write("constant_of_shape_rank9.onnx",
          "node 'cos' (ConstantOfShape): shape has 9 entries, vitc supports at most rank 8", m=cos_model([1] * 9))
    write("gather_rank9.onnx", "node 't' (Gather): result has rank 9, vitc supports at most 8",
          m=model([helper.make_node("Gather", ["x", "i"], ["y"], name="t")], [vi("x", [2] + [1] * 7)], [vi("y", None)],
                  [i64("i", [[0]])]))
    neg_v = TensorProto(name="v", data_type=TensorProto.FLOAT, dims=[2, -3])
    write("constant_negative_dim.onnx", "node 'k' (Constant): value has negative dim -3",
          m=model([helper.make_node("Constant", [], ["c"], name="k", value=neg_v),
                   helper.make_node("Add", ["x", "c"], ["y"], name="add")], [vi("x", [2, 3])], [vi("y", None)]))
    write("split_negative.onnx", "node 't' (Split): split entry 1 is -1: a size cannot be negative",
          m=model([helper.make_node("Split", ["x", "s"], ["a", "b"], name="t", axis=0)], [vi("x", [4])],
                  [vi("a", None), vi("b", None)], [i64("s", [5, -1])]))
    write("split_overflow.onnx", "node 't' (Split): split sizes add up to more than 9223372036854775807, axis has 4",
          m=model([helper.make_node("Split", ["x", "s"], ["a", "b"], name="t", axis=0)], [vi("x", [4])],
                  [vi("a", None), vi("b", None)], [i64("s", [1, 2 ** 63 - 1])]))
    write("slice_zero_step.onnx", "node 't' (Slice): step must not be 0",
          m=model([helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"], name="t")], [vi("x", [4])],
                  [vi("y", None)], [i64("st", [0]), i64("en", [4]), i64("ax", [0]), i64("sp", [0])]))
    write("range_zero_delta.onnx", "node 't' (Range): delta must not be 0",
          m=model([helper.make_node("Range", ["a", "b", "c"], ["y"], name="t")], [], [vi("y", None)],
                  [i64("a", 0), i64("b", 5), i64("c", 0)]))
    # Zero-size tensors are fine, but a -1 among entries that multiply to 0 could be anything (numpy
    # refuses it too), and the mean of no integers has no value (ONNX: undefined).
    write("reshape_infer_from_zero.onnx",
          "node 't' (Reshape): cannot infer the -1 entry of the shape: the other entries multiply to 0",
          m=unary("Reshape", i64("s", [0, -1]), (0, 5)))
    write("reduce_mean_empty_int.onnx",
          "node 't' (ReduceMean): the mean of no elements (input i64[4,0]) is undefined for i64",
          m=model([helper.make_node("ReduceMean", ["x"], ["y"], name="t", axes=[1])],
                  [vi("x", [4, 0], TensorProto.INT64)], [vi("y", None, TensorProto.INT64)]),
          args="compile MODEL -o OUT")
    # The same limits on the command line, in IR text and in .npy inputs.
    write("pin_rank9.onnx", "--input-shape 'x=1x1x1x1x1x1x1x1x1': more than 8 dims", m=relu_model(["N", 3]),
          args="compile MODEL -o OUT --input-shape x=1x1x1x1x1x1x1x1x1")
    write("pin_negative_dim.onnx", "--input-shape 'x=2x-3': dim 1 is not a non-negative integer",
          m=relu_model(["N", "M"]), args="ir MODEL --input-shape x=2x-3")
    r9 = "f32[" + ",".join(["1"] * 9) + "]"
    rank9_ir = 'graph "rank9.vir" opset 17\ninput %x: ' + r9 + '\n%y: ' + r9 + ' = relu(%x) @"r"\noutput %y\n'
    write("ir_rank9.vir", "ir_rank9.vir: line 2: type has more than 8 dims", data=rank9_ir.encode(),
          args="compile MODEL -o OUT")
    neg_ir = 'graph "neg.vir" opset 17\ninput %x: f32[2,-3]\n%y: f32[2,-3] = relu(%x) @"r"\noutput %y\n'
    write("ir_negative_dim.vir", "ir_negative_dim.vir: line 2: negative dimension -3", data=neg_ir.encode())
    for name, shape in [("npy_rank9", "(1, 1, 1, 1, 1, 1, 1, 1, 1)"), ("npy_negative_dim", "(2, -3)")]:
        header = ("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape).encode()
        header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
        expect = ".npy array has rank 9, vitc supports at most 8" if name == "npy_rank9" else \
            ".npy shape entry 1 is -3: a dimension cannot be negative"
        write(name + ".npy", name + ".npy: " + expect,
              data=b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 4,
              args="run good_model.onnx --input MODEL --output OUT")


if __name__ == "__main__":
    main()
