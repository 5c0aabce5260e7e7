"""Run models compiled by vitc from Python (ctypes + numpy, no compiled extension).

    import vitc
    m = vitc.load("model.so", threads=2)
    m.inputs, m.outputs          # [TensorInfo(name, shape, dtype)]
    y = m(x)                     # one array in, one array out (a list or dict for several)
    m.classify("cat.jpg", top=5) # [(label, probability)], preprocessing from the model's metadata

The model .so is loaded with ctypes and called through its C ABI (runtime/vitc_abi.h, ABI version 4):
its entry points are found through the `vitc_entry_points` descriptor, whatever the model's --prefix.
Images are decoded and preprocessed by vitc's own image library, libvitimg.so (image/vitimg.h), found
next to this package as installed (PREFIX/lib), or at $VITC_IMAGE_LIB.
Errors raise vitc.VitcError with vitc's message.
"""

import ctypes
import os
from collections import namedtuple

import numpy as np

__all__ = ["load", "Model", "TensorInfo", "VitcError", "preprocess", "ABI_VERSION"]

ABI_VERSION = 4

# VITC_DTYPE_* (ONNX TensorProto numbering) -> numpy dtype.
_DTYPES = {1: np.dtype(np.float32), 6: np.dtype(np.int32), 7: np.dtype(np.int64), 9: np.dtype(np.bool_)}


class VitcError(RuntimeError):
    """An error reported by vitc (bad model file, wrong input, undecodable image, ...)."""


TensorInfo = namedtuple("TensorInfo", "name shape dtype")


class _CTensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("dims", ctypes.c_int64 * 8)]


class _CMetadata(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("value", ctypes.c_char_p)]


class _CModelInfo(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint32), ("n_inputs", ctypes.c_int32), ("n_outputs", ctypes.c_int32),
                ("inputs", ctypes.POINTER(_CTensorInfo)), ("outputs", ctypes.POINTER(_CTensorInfo)),
                ("workspace_bytes", ctypes.c_uint64), ("weights_bytes", ctypes.c_uint64),
                ("n_metadata", ctypes.c_int32), ("metadata", ctypes.POINTER(_CMetadata)),
                ("prefix", ctypes.c_char_p), ("target_cpu", ctypes.c_char_p), ("cpu_features", ctypes.c_char_p),
                ("batch_dynamic", ctypes.c_int32), ("max_batch", ctypes.c_int64)]


_P = ctypes.c_void_p
_I = ctypes.c_int


class _CEntryPoints(ctypes.Structure):  # VitcEntryPoints
    _fields_ = [("abi_version", ctypes.c_uint32), ("prefix", ctypes.c_char_p),
                ("model_info", ctypes.CFUNCTYPE(ctypes.POINTER(_CModelInfo))),
                ("session_create", ctypes.CFUNCTYPE(_P, _I, ctypes.POINTER(_I))),
                ("session_create_with", ctypes.CFUNCTYPE(_P, _P, ctypes.POINTER(_I))),
                ("session_run", ctypes.CFUNCTYPE(_I, _P, ctypes.POINTER(_P), ctypes.POINTER(_P))),
                ("session_run_batch", ctypes.CFUNCTYPE(_I, _P, ctypes.c_int64, ctypes.POINTER(_P),
                                                       ctypes.POINTER(_P))),
                ("session_destroy", ctypes.CFUNCTYPE(None, _P)),
                ("pool_create", ctypes.CFUNCTYPE(_P, _I, ctypes.POINTER(_I))),
                ("pool_destroy", ctypes.CFUNCTYPE(None, _P)),
                ("cpu_check", ctypes.CFUNCTYPE(_I, ctypes.c_char_p, ctypes.c_size_t)),
                ("status_string", ctypes.CFUNCTYPE(ctypes.c_char_p, _I))]


class _CPrep(ctypes.Structure):  # VitimgPrep
    _fields_ = [("size", ctypes.c_int), ("resize_size", ctypes.c_int), ("color", ctypes.c_int),
                ("resize", ctypes.c_int), ("mean", ctypes.c_float * 3), ("std", ctypes.c_float * 3)]


_image_lib = None


def _imagelib():
    """libvitimg.so: $VITC_IMAGE_LIB, else PREFIX/lib/libvitimg.so for this installed package."""
    global _image_lib
    if _image_lib is None:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.environ.get("VITC_IMAGE_LIB") or os.path.normpath(os.path.join(here, "..", "..", "..",
                                                                                  "libvitimg.so"))
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            raise VitcError(f"cannot load vitc's image library {path}: {e}") from None
        lib.vitimg_prep_default.restype = _CPrep
        lib.vitimg_prep_from_metadata.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                  ctypes.POINTER(_CPrep), ctypes.c_char_p, ctypes.c_size_t]
        lib.vitimg_load_tensor.argtypes = [ctypes.c_char_p, ctypes.POINTER(_CPrep), ctypes.c_void_p,
                                           ctypes.c_char_p, ctypes.c_size_t]
        _image_lib = lib
    return _image_lib


def _err(buf):
    return buf.value.decode("utf-8", "replace")


def _prep_for(info, metadata_ptr, n_metadata):
    """The preprocessing of a model whose input 0 is `info`, from its metadata (vitc's own rules)."""
    lib = _imagelib()
    if len(info.shape) != 4 or info.dtype != np.float32:
        raise VitcError(f"classify needs a first input f32[N,C,S,S]; this model's is {info.dtype}{list(info.shape)}")
    prep, err = _CPrep(), ctypes.create_string_buffer(512)
    if lib.vitimg_prep_from_metadata(metadata_ptr, n_metadata, int(info.shape[1]), int(info.shape[2]),
                                     ctypes.byref(prep), err, len(err)):
        raise VitcError(_err(err))
    return prep


def preprocess(path, prep):
    """Decodes and preprocesses one image file into a float32 array [C, S, S] with vitc's image library."""
    lib = _imagelib()
    channels = 1 if prep.color == 1 else 3
    out = np.empty((channels, prep.size, prep.size), dtype=np.float32)
    err = ctypes.create_string_buffer(512)
    if lib.vitimg_load_tensor(os.fsencode(path), ctypes.byref(prep), out.ctypes.data, err, len(err)):
        raise VitcError(_err(err))
    return out


class Model:
    """A compiled model and one session (its workspace and threads). Not for two threads at once."""

    def __init__(self, path, threads=0):
        self.path = os.fspath(path)
        try:
            self._lib = ctypes.CDLL(os.path.abspath(self.path), mode=os.RTLD_NOW | os.RTLD_LOCAL)
        except OSError as e:
            raise VitcError(f"{self.path}: cannot load: {e}") from None
        try:
            ep = _CEntryPoints.in_dll(self._lib, "vitc_entry_points")
        except ValueError:
            raise VitcError(f"{self.path}: not a vitc model of ABI 4 or later (no vitc_entry_points); "
                            "recompile it with this vitc") from None
        if ep.abi_version != ABI_VERSION:
            raise VitcError(f"{self.path}: model was built for vitc ABI version {ep.abi_version}, "
                            f"this module supports version {ABI_VERSION}")
        self._ep = ep
        info = ep.model_info().contents
        self._info = info
        self.inputs = [self._tensor(info.inputs[i]) for i in range(info.n_inputs)]
        self.outputs = [self._tensor(info.outputs[i]) for i in range(info.n_outputs)]
        self.metadata = {info.metadata[i].key.decode(): info.metadata[i].value.decode()
                         for i in range(info.n_metadata)}
        self.prefix = info.prefix.decode()
        self.dynamic_batch = bool(info.batch_dynamic)  # inputs of any batch (1..max_batch; 0: no limit)
        self.max_batch = int(info.max_batch)
        self.target_cpu = info.target_cpu.decode()
        env = os.environ.get("VITC_NUM_THREADS")
        if not threads and env and not (env.isdigit() and int(env) >= 1):
            import warnings
            warnings.warn(f"VITC_NUM_THREADS={env!r} is not a whole number from 1; ignored", RuntimeWarning)
        status = ctypes.c_int(0)
        self._session = ep.session_create(int(threads), ctypes.byref(status))
        if not self._session:
            why = self._status(status.value)
            msg = ctypes.create_string_buffer(512)
            if ep.cpu_check(msg, len(msg)):
                why = f"cannot run on this CPU: {msg.value.decode()}"
            raise VitcError(f"{self.path}: cannot create a session: {why}")
        self._prep = None

    @staticmethod
    def _tensor(t):
        if t.dtype not in _DTYPES:
            raise VitcError(f"unknown dtype {t.dtype} of '{t.name.decode()}'")
        return TensorInfo(t.name.decode(), tuple(t.dims[k] for k in range(t.rank)), _DTYPES[t.dtype])

    def _status(self, code):
        return self._ep.status_string(code).decode()

    def close(self):
        """Destroys the session (the library stays mapped while the object lives)."""
        if getattr(self, "_session", None):
            self._ep.session_destroy(self._session)
            self._session = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _bind(self, args):
        """The input arrays in model order, checked and made C-contiguous (copied only when needed)."""
        if isinstance(args, dict):
            names = [t.name for t in self.inputs]
            unknown = set(args) - set(names)
            if unknown:
                raise VitcError(f"{self.path}: no input named {sorted(unknown)[0]!r} (inputs: {names})")
            missing = [n for n in names if n not in args]
            if missing:
                raise VitcError(f"{self.path}: input {missing[0]!r} not given")
            args = [args[n] for n in names]
        elif not isinstance(args, (list, tuple)):
            args = [args]
        if len(args) != len(self.inputs):
            raise VitcError(f"{self.path}: model has {len(self.inputs)} inputs, {len(args)} given")
        arrays = [np.asarray(a) for a in args]
        batch = None
        if self.dynamic_batch and arrays and arrays[0].ndim > 0:
            batch = arrays[0].shape[0]
            if batch < 1 or (self.max_batch and batch > self.max_batch):
                raise VitcError(f"{self.path}: batch {batch} is outside the model's 1..{self.max_batch or 'any'}")
        for a, t in zip(arrays, self.inputs):
            want = (batch,) + t.shape[1:] if batch is not None else t.shape
            if a.dtype != t.dtype or a.shape != want:
                shown = (["N"] + list(t.shape[1:])) if self.dynamic_batch else list(t.shape)
                raise VitcError(f"{self.path}: input '{t.name}' is {a.dtype}{list(a.shape)}, "
                                f"the model expects {t.dtype}[{', '.join(map(str, shown))}]")
        return [np.ascontiguousarray(a) for a in arrays], batch

    def run(self, *args):
        """Runs the model: arrays in model order (or one list/dict); returns every output as a list."""
        if self._session is None:
            raise VitcError(f"{self.path}: the model was closed")
        arrays, batch = self._bind(args[0] if len(args) == 1 else list(args))
        outs = [np.empty((batch,) + t.shape[1:] if batch is not None else t.shape, dtype=t.dtype)
                for t in self.outputs]
        in_ptrs = (ctypes.c_void_p * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
        out_ptrs = (ctypes.c_void_p * max(1, len(outs)))(*[o.ctypes.data for o in outs])
        if batch is not None:
            st = self._ep.session_run_batch(self._session, batch, in_ptrs, out_ptrs)
        else:
            st = self._ep.session_run(self._session, in_ptrs, out_ptrs)
        if st:
            raise VitcError(f"{self.path}: run failed: {self._status(st)}")
        return outs

    def __call__(self, x):
        """One array in, one array out; a list or dict of inputs gives the list of outputs."""
        outs = self.run(x)
        return outs[0] if len(outs) == 1 and not isinstance(x, (list, tuple, dict)) else outs

    def labels(self):
        """The class names from the metadata (vitc.labels), or None."""
        text = self.metadata.get("vitc.labels")
        return text.split("\n") if text is not None else None

    def preprocess(self, path):
        """One image file as the model's input 0 expects it ([C, S, S]), from the model's metadata."""
        if self._prep is None:
            self._prep = _prep_for(self.inputs[0], ctypes.cast(self._info.metadata, ctypes.c_void_p),
                                   self._info.n_metadata)
        x = preprocess(path, self._prep)
        if x.shape[0] != self.inputs[0].shape[1]:  # grey for a 3-channel model: repeat it
            x = np.repeat(x, self.inputs[0].shape[1], axis=0)
        return x

    def classify(self, paths, top=1):
        """Classifies one image path (returns [(label, probability)] of its top classes) or a list of
        paths (returns one such list per image), in batches of the model's batch."""
        single = isinstance(paths, (str, bytes, os.PathLike))
        paths = [paths] if single else list(paths)
        self._check_classifier(top)
        xs = [self.preprocess(p) for p in paths]  # every image first: a bad file fails before any run
        results = self.classify_arrays(xs, top)
        for path, r in zip(paths, results):
            if r is None:
                raise VitcError(f"{path}: {_NOT_FINITE}")
        return results[0] if single else results

    def _check_classifier(self, top):
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise VitcError(f"classify: top must be a positive integer, got {top!r}")
        if len(self.inputs) != 1:
            raise VitcError(f"{self.path}: classify needs a model with one input")

    def classify_arrays(self, xs, top=1, batch=None, labels=None):
        """The top classes of preprocessed images (arrays [C, S, S], as preprocess() gives them): one list
        of (label, probability) per image, or None where the model's output is not finite. Runs in batches
        of `batch` images (default: the compiled batch; a dynamic-batch model may take any up to its
        max_batch); `labels` overrides the metadata's class names."""
        self._check_classifier(top)
        fixed = self.inputs[0].shape[0]
        if batch is None:
            batch = fixed
        elif not self.dynamic_batch and batch != fixed:
            raise VitcError(f"{self.path}: the model was compiled for batch {fixed}, not {batch} "
                            "(compile it with --dynamic-batch for other batches)")
        elif batch < 1 or (self.dynamic_batch and self.max_batch and batch > self.max_batch):
            raise VitcError(f"{self.path}: batch {batch} is outside the model's 1..{self.max_batch or 'any'}")
        source = "metadata vitc.labels" if labels is None else "the labels given"
        labels = self.labels() if labels is None else labels
        results = []
        for first in range(0, len(xs), batch):
            chunk = xs[first:first + batch]
            if self.dynamic_batch:  # exactly the chunk's images
                x = np.stack(chunk).astype(np.float32, copy=False)
            else:  # the compiled batch, padded with zeros
                x = np.zeros(self.inputs[0].shape, dtype=np.float32)
                x[:len(chunk)] = chunk
            y = self.run(x)[0].reshape(x.shape[0], -1)[:len(chunk)].astype(np.float64)
            if labels is not None and y.shape[1] != len(labels):
                raise VitcError(f"{self.path}: {source} has {len(labels)} labels, "
                                f"the model has {y.shape[1]} classes")
            probs = y if _is_probability(y) else _softmax(y)
            for row in probs:
                if not np.all(np.isfinite(row)):
                    results.append(None)
                    continue
                order = np.argsort(-row, kind="stable")[:top]
                results.append([(labels[k] if labels else int(k), float(row[k])) for k in order])
        return results


_NOT_FINITE = ("the model's output is not finite (NaN or infinity); "
               "check the preprocessing (metadata vitc.mean and vitc.std)")


def _is_probability(y):
    return bool(np.all((y >= 0) & (y <= 1)) and np.all(np.abs(y.sum(axis=1) - 1) <= 1e-3))


def _softmax(y):
    e = np.exp(y - y.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def load(path, threads=0):
    """Loads a model compiled by `vitc compile` and creates a session with `threads` threads
    (0: $VITC_NUM_THREADS, else the CPUs this process may use, capped by its cgroup CPU quota)."""
    return Model(path, threads)
