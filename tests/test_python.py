"""The Python module (python/vitc) on a compiled fixture: run with
    python3 tests/test_python.py MODEL.so FIXTURE_PREFIX IMAGES_DIR EXPECTED_CLASSIFY.txt
where MODEL.so is FIXTURE_PREFIX.onnx compiled with --batch 1 and EXPECTED_CLASSIFY.txt is
`vitc run MODEL.so --image IMAGES_DIR/photo.jpg --top 3` (the CLI's own output, which the module must
reproduce). PYTHONPATH must reach the module and VITC_IMAGE_LIB libvitimg.so (tests/CMakeLists.txt)."""

import os
import sys
import unittest

import numpy as np

import vitc

MODEL, PREFIX, IMAGES, EXPECTED = sys.argv[1:5]


class ModuleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = vitc.load(MODEL, threads=2)

    def test_inputs_outputs(self):
        self.assertEqual(self.m.inputs, [vitc.TensorInfo("input", (1, 3, 32, 32), np.dtype(np.float32))])
        self.assertEqual(self.m.outputs, [vitc.TensorInfo("output", (1, 10), np.dtype(np.float32))])

    def test_call_matches_torch(self):
        x = np.load(PREFIX + ".input.npy")
        want = np.load(PREFIX + ".output.npy")
        y = self.m(x)
        self.assertEqual(y.shape, (1, 10))
        self.assertLess(float(np.abs(y - want).max()), 1e-4)
        # a list gives the list of outputs, a dict binds by name; a non-contiguous array is copied
        self.assertLess(float(np.abs(self.m([x])[0] - want).max()), 1e-4)
        self.assertLess(float(np.abs(self.m({"input": x})[0] - want).max()), 1e-4)
        xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
        self.assertFalse(xt.flags.c_contiguous)
        self.assertLess(float(np.abs(self.m(xt) - want).max()), 1e-4)

    def test_errors_raise(self):
        with self.assertRaisesRegex(vitc.VitcError, r"input 'input' is float32\[2, 3, 32, 32\], the model expects"):
            self.m(np.zeros((2, 3, 32, 32), np.float32))
        with self.assertRaisesRegex(vitc.VitcError, "is float64"):
            self.m(np.zeros((1, 3, 32, 32)))
        with self.assertRaisesRegex(vitc.VitcError, "no input named 'x'"):
            self.m({"x": np.zeros((1, 3, 32, 32), np.float32)})
        with self.assertRaisesRegex(vitc.VitcError, "cannot load"):
            vitc.load(os.path.join(IMAGES, "missing.so"))
        with self.assertRaisesRegex(vitc.VitcError, "top must be a positive integer"):
            self.m.classify(os.path.join(IMAGES, "photo.jpg"), top=0)
        with self.assertRaisesRegex(vitc.VitcError, r"photo\.txt: cannot open"):
            self.m.classify(os.path.join(IMAGES, "photo.txt"))

    def test_classify_matches_cli(self):
        got = self.m.classify(os.path.join(IMAGES, "photo.jpg"), top=3)
        with open(EXPECTED) as f:
            lines = f.read().splitlines()
        want = [lines[0].split(": ", 1)[1]] + [line.strip() for line in lines[1:]]
        self.assertEqual([f"{label} ({100 * p:.1f}%)" for label, p in got], want)
        both = self.m.classify([os.path.join(IMAGES, "photo.jpg"), os.path.join(IMAGES, "gradient.png")])
        self.assertEqual(len(both), 2)
        self.assertEqual(both[0][0], got[0])

    def test_closed_model(self):
        m = vitc.load(MODEL, threads=1)
        m.close()
        with self.assertRaisesRegex(vitc.VitcError, "closed"):
            m(np.zeros((1, 3, 32, 32), np.float32))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
