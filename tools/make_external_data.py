#!/usr/bin/env python3
"""Writes the ONNX external-data fixtures of tests/external/ (checked by tests/external_data.sh).

model.onnx: y = Reshape(x @ W + C + B, S), x f32[2,3], y f32[4,2], with every weight in weights.bin (112 bytes):
W f32[3,4] at offset 0 (length given), C f32[4] at offset 49 (misaligned: the importer copies it), S i64[2]
as a Constant node's value at offset 72, B f32[4] at offset 96 without a length (the rest of the file).
embedded.onnx is the same model with the weights inside it; big.onnx reads them at 2^32 + the same offsets
from big.bin, which the test makes (4 GiB of holes, then weights.bin). input.npy, output.npy: numpy's result.

bad/: refused locations in tests/bad's format (NAME.onnx, NAME.expect; tests/bad_input.sh), each a model
y = x @ w, w f32[3,4] (48 bytes), whose w is stored externally; data.bin is 80 bytes. link.bin, outdir,
dir.bin, fifo.bin and ../escape.bin are made by the test, since git keeps symbolic links and FIFOs badly.

Run with /usr/bin/python3 (Debian's python3-onnx); the outputs are committed."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "external")
BIG = 1 << 32


def external(name, array, location, offset=None, length=None):
    """A TensorProto of array's dtype and shape whose data is at location (offset, length as given)."""
    t = numpy_helper.from_array(array, name)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            e = t.external_data.add()
            e.key, e.value = key, str(value)
    return t


def weights():
    rng = np.random.default_rng(10)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    c = rng.standard_normal(4).astype(np.float32)
    s = np.array([4, 2], np.int64)
    b = rng.standard_normal(4).astype(np.float32)
    return w, c, s, b


def weights_file(w, c, s, b):
    data = bytearray(112)
    for offset, a in ((0, w), (49, c), (72, s), (96, b)):
        data[offset:offset + a.nbytes] = a.tobytes()
    return bytes(data)


def main_model(location=None, base=0):
    """The model, its weights in `location` at base + their offsets, or embedded when location is None."""
    w, c, s, b = weights()
    if location is None:
        inits = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(c, "C"), numpy_helper.from_array(b, "B")]
        s_tensor = numpy_helper.from_array(s, "S")
    else:
        inits = [external("W", w, location, base + 0, 48), external("C", c, location, base + 49, 16),
                 external("B", b, location, base + 96)]
        s_tensor = external("S", s, location, base + 72, 16)
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"),
             helper.make_node("Add", ["h", "C"], ["h2"], name="add_c"),
             helper.make_node("Add", ["h2", "B"], ["h3"], name="add_b"),
             helper.make_node("Constant", [], ["s"], name="shape", value=s_tensor),
             helper.make_node("Reshape", ["h3", "s"], ["y"], name="rs")]
    g = helper.make_graph(nodes, "external_data", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 2])], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def save(path, m):
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def bad_case(name, expect, location, offset=None, length=None):
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "bad",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                          initializer=[external("w", w, location, offset, length)])
    save(os.path.join(OUT, "bad", name + ".onnx"), helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    with open(os.path.join(OUT, "bad", name + ".expect"), "w") as f:
        f.write(f"{name}.onnx: initializer 'w': {expect}\n")


def main():
    os.makedirs(os.path.join(OUT, "bad"), exist_ok=True)
    w, c, s, b = weights()
    with open(os.path.join(OUT, "weights.bin"), "wb") as f:
        f.write(weights_file(w, c, s, b))
    save(os.path.join(OUT, "model.onnx"), main_model("weights.bin"))
    save(os.path.join(OUT, "embedded.onnx"), main_model())
    save(os.path.join(OUT, "big.onnx"), main_model("big.bin", BIG))
    x = np.random.default_rng(11).standard_normal((2, 3)).astype(np.float32)
    np.save(os.path.join(OUT, "input.npy"), x)
    np.save(os.path.join(OUT, "output.npy"), (x @ w + c + b).reshape(4, 2))

    with open(os.path.join(OUT, "bad", "data.bin"), "wb") as f:
        f.write(np.arange(20, dtype=np.float32).tobytes())  # 80 bytes; w's 48 fit at offset 0
    bad_case("ext_missing", "cannot open external data 'missing.bin': No such file or directory", "missing.bin", 0, 48)
    bad_case("ext_past_end", "external data offset 64 + length 48 runs past the end of 'data.bin' (80 bytes)",
             "data.bin", 64, 48)
    bad_case("ext_offset_past_end", "external data offset 81 is past the end of 'data.bin' (80 bytes)", "data.bin", 81)
    bad_case("ext_length", "external data length 40 does not match the 48 bytes its shape needs", "data.bin", 0, 40)
    bad_case("ext_rest", "external data from offset 16 to the end of 'data.bin' is 64 bytes, its shape needs 48",
             "data.bin", 16)
    bad_case("ext_escape", "external data location '../escape.bin' has a '..' component", "../escape.bin", 0, 48)
    bad_case("ext_absolute", "external data location '/etc/passwd' is an absolute path", "/etc/passwd", 0, 48)
    bad_case("ext_symlink", "external data location 'link.bin' resolves outside the model's folder", "link.bin", 0, 48)
    bad_case("ext_symlink_dir", "external data location 'outdir/secret.bin' resolves outside the model's folder",
             "outdir/secret.bin", 0, 48)
    bad_case("ext_directory", "external data 'dir.bin' is not a regular file", "dir.bin", 0, 48)
    bad_case("ext_fifo", "external data 'fifo.bin' is not a regular file", "fifo.bin", 0, 48)


if __name__ == "__main__":
    main()
