"""vitc-batch: classify an image collection over a Dask cluster with a model compiled by vitc.

    vitc-batch MODEL.so INPUT... --out results.csv [--scheduler ADDRESS | --local-workers N]
               [--threads-per-worker T] [--batch B] [--chunk C] [--top K] [--labels FILE]

INPUT is an image file, a folder (searched recursively for .png/.jpg/.jpeg) or a text file listing one
path per line. The client sends chunks of paths (never pixels) to the workers; each worker thread loads the
model once (a per-thread cache: a vitc session is not for two threads at once), decodes and preprocesses
with vitc's own image library (the `vitc` module's preprocess, the same code as `vitc run --image`), runs
the chunk in batches of the model's batch and returns one row per image. An image that cannot be read
becomes a row with an `error` and the job goes on; a chunk whose worker dies is retried by Dask on another
worker. Rows are written in input order while the job runs, to OUT.partial, renamed to OUT at the end.
"""

import argparse
import csv
import os
import signal
import sys
import threading
import time

import vitc

WORKER_WAIT_S = 60  # how long a job waits for its first worker
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe")
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG: an image whatever its name

# Fault injection for the tests of killed workers (SIGKILL half-way through a chunk, as the OOM killer or a
# crash would): VITC_BATCH_KILL_ONCE=MARKER kills the worker of the first chunk that manages to create
# MARKER (Dask retries the chunk); VITC_BATCH_KILL_ON=TEXT kills every worker given a chunk with a path
# containing TEXT (Dask gives up after its allowed-failures: the chunk's rows get an error).
_KILL_ONCE, _KILL_ON = "VITC_BATCH_KILL_ONCE", "VITC_BATCH_KILL_ON"


class BatchError(Exception):
    """A usage or set-up error: reported as `vitc-batch: error: ...` with exit status 1."""


# ---- inputs -------------------------------------------------------------------------------------------

def _is_image_file(path):
    if path.lower().endswith(IMAGE_SUFFIXES):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.startswith(_MAGIC)


def _read_list(path):
    """The paths a list file names, one per line (blank lines and # comments skipped); relative paths are
    relative to the list file's folder."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BatchError(f"{path}: cannot read as a list of paths: {e}") from None
    base = os.path.dirname(path)
    return [line if os.path.isabs(line) else os.path.join(base, line)
            for line in (raw.strip() for raw in lines) if line and not line.startswith("#")]


def collect_inputs(inputs):
    """The image paths INPUT... name, in order: files as given, folders walked in sorted order (images by
    suffix only), list files expanded (paths in a list that do not exist become error rows later)."""
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            for root, dirs, files in os.walk(item):
                dirs.sort()
                paths += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(IMAGE_SUFFIXES)]
        elif not os.path.exists(item):
            raise BatchError(f"{item}: no such file or folder")
        elif _is_image_file(item):
            paths.append(item)
        else:
            paths += _read_list(item)
    return paths


# ---- the worker side ----------------------------------------------------------------------------------

_local = threading.local()  # this thread's model: {(path, threads): vitc.Model}
_loads = 0  # models loaded by this process (reported back, so the client can show they are not per task)
_loads_lock = threading.Lock()


def _model(path, threads):
    cache = getattr(_local, "models", None)
    if cache is None:
        cache = _local.models = {}
    key = (path, threads)
    if key not in cache:
        cache[key] = vitc.load(path, threads=threads)
        global _loads
        with _loads_lock:
            _loads += 1
    return cache[key]


def model_facts(path, threads):
    """What the client needs to know about the model, as seen by a worker (which also proves it loads)."""
    m = _model(path, threads)
    vitc._imagelib()  # not found: the job fails here, not as an error row per image
    if len(m.inputs) != 1 or len(m.inputs[0].shape) != 4:
        raise vitc.VitcError(f"{path}: vitc-batch needs a model with one image input [N, C, S, S]")
    return {"batch": m.inputs[0].shape[0], "dynamic": m.dynamic_batch, "max_batch": m.max_batch,
            "classes": m.outputs[0].shape[-1]}


def classify_chunk(path, threads, batch, top, labels, paths):
    """One chunk: a row (labels, probabilities, error) per image, and (pid, models loaded by this process)."""
    m = _model(path, threads)
    vitc._imagelib()  # raises (failing the job) when the worker cannot load it: not a per-image error
    rows = [None] * len(paths)
    xs, ok = [], []
    for i, p in enumerate(paths):
        try:
            xs.append(m.preprocess(p))
            ok.append(i)
        except vitc.VitcError as e:  # the row names the image: keep only what is wrong with it
            msg = str(e)
            rows[i] = ([], [], msg[len(p) + 2:] if msg.startswith(p + ": ") else msg)
        if i == len(paths) // 2:
            _maybe_die(paths)
    for i, r in zip(ok, m.classify_arrays(xs, top, batch=batch, labels=labels) if xs else []):
        rows[i] = ([], [], vitc._NOT_FINITE) if r is None else \
                  ([label for label, _ in r], [prob for _, prob in r], "")
    return rows, (os.getpid(), _loads)


def _maybe_die(paths):
    text, marker = os.environ.get(_KILL_ON), os.environ.get(_KILL_ONCE)
    if text and any(text in p for p in paths):
        os.kill(os.getpid(), signal.SIGKILL)
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


# ---- the client side ----------------------------------------------------------------------------------

def _parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="vitc-batch",
        description="Classify images with a vitc-compiled model over a Dask cluster; results go to a CSV "
                    "file (path,label,confidence[,label_K,confidence_K...],error) in input order.")
    ap.add_argument("model", metavar="MODEL.so", help="a model compiled by `vitc compile`")
    ap.add_argument("inputs", metavar="INPUT", nargs="+",
                    help="image files, folders (recursively) or text files listing one path per line")
    ap.add_argument("--out", required=True, metavar="results.csv", help="the CSV file to write")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running `dask scheduler` (tcp://host:8786)")
    where.add_argument("--local-workers", type=int, metavar="N",
                       help="start a LocalCluster of N worker processes here (default: one per core)")
    ap.add_argument("--threads-per-worker", type=int, metavar="T",
                    help="threads of each worker's vitc session (default: cores / N locally, 1 with "
                         "--scheduler); each Dask worker thread runs one chunk at a time")
    ap.add_argument("--batch", type=int, metavar="B",
                    help="images per model run (default: the compiled batch, or 8 up to max_batch for a "
                         "--dynamic-batch model)")
    ap.add_argument("--chunk", type=int, metavar="C",
                    help="images per Dask task (default: 4 batches, at least 16 images)")
    ap.add_argument("--top", type=int, default=1, metavar="K", help="the K best classes per image (default 1)")
    ap.add_argument("--labels", metavar="FILE", help="class names, one per line (default: metadata vitc.labels)")
    ap.add_argument("--progress", choices=("auto", "on", "off"), default="auto",
                    help="a progress line on stderr (auto: when stderr is a terminal)")
    a = ap.parse_args(argv)
    for name in ("local_workers", "threads_per_worker", "batch", "chunk", "top"):
        v = getattr(a, name)
        if v is not None and v < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1, got {v}")
    return a


def _read_labels(path):
    try:
        with open(path, encoding="utf-8") as f:
            labels = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BatchError(f"{path}: cannot read the labels file: {e}") from None
    while labels and not labels[-1].strip():
        labels.pop()
    if not labels or any(not s.strip() for s in labels):
        raise BatchError(f"{path}: the labels file has an empty line or no labels")
    return labels


def _pick_batch(a, facts):
    if not facts["dynamic"]:
        if a.batch is not None and a.batch != facts["batch"]:
            raise BatchError(f"{a.model}: the model was compiled for batch {facts['batch']}, not {a.batch} "
                             "(compile it with --dynamic-batch for other batches)")
        return facts["batch"]
    limit = facts["max_batch"] or 1 << 30
    if a.batch is not None and a.batch > limit:
        raise BatchError(f"{a.model}: --batch {a.batch} is over the model's max_batch {limit}")
    return a.batch if a.batch is not None else min(8, limit)


class _Progress:
    """`done/total images, rate` on one terminal line, refreshed at most 5 times a second."""

    def __init__(self, total, on):
        self.total, self.on, self.start, self.last = total, on, time.monotonic(), 0.0

    def update(self, done, final=False):
        now = time.monotonic()
        if not self.on or (not final and now - self.last < 0.2):
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        pct = 100.0 * done / self.total if self.total else 100.0
        sys.stderr.write(f"\rvitc-batch: {done}/{self.total} images ({pct:.0f}%), {rate:.1f} images/s ")
        if final:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _header(top):
    cols = ["path", "label", "confidence"]
    for k in range(2, top + 1):
        cols += [f"label_{k}", f"confidence_{k}"]
    return cols + ["error"]


def _csv_row(path, row, top):
    labels, probs, error = row
    cells = [path]
    for k in range(top):
        cells += [str(labels[k]), f"{probs[k]:.6f}"] if k < len(labels) else ["", ""]
    return cells + [error]


def _cores():
    """The CPUs this process may run on (its affinity, as vitc's sessions count them)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _start_client(a):
    """A Dask client on --scheduler, or on a LocalCluster started here (closed with the client)."""
    import logging
    import tempfile

    from distributed import Client, LocalCluster
    if a.scheduler:
        try:
            return Client(a.scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as e:
            raise BatchError(f"cannot connect to the Dask scheduler {a.scheduler}: {e}") from None
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")  # the worker processes' INFO lines: noise here
    import dask
    n = a.local_workers or _cores()
    # one task on a worker at a time (not Dask's default 1.1 x its threads): a worker that crashes then
    # takes down only the chunk it was running, not one queued behind it
    dask.config.set({"distributed.scheduler.worker-saturation": 1.0})
    # worker scratch space in a temporary folder, not ./dask-worker-space
    scratch = tempfile.mkdtemp(prefix="vitc-batch-")
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.CRITICAL, local_directory=scratch)
    return Client(cluster), (cluster, scratch)


def _stream_results(client, chunks, task_args, write_row, flush, progress):
    """Submits every chunk, writes the rows in input order as chunks complete (buffering those that finish
    early) and returns (rows with an error, {worker pid: models it loaded}, chunks lost to crashes).
    A chunk Dask gave up on (KilledWorker: its workers died allowed-failures + 1 times) is split into
    one task per image, so that only the image that kills workers is lost, not its neighbours."""
    from distributed import KilledWorker, as_completed
    rows = [[None] * len(c) for c in chunks]
    missing = [len(c) for c in chunks]
    owner = {}  # future key -> (chunk, first image in it, images)
    tasks = as_completed()

    def submit(k, j, n):
        fut = client.submit(classify_chunk, *task_args(chunks[k][j:j + n]), pure=False)
        owner[fut.key] = (k, j, n)
        tasks.add(fut)

    for k, c in enumerate(chunks):
        submit(k, 0, len(c))
    errors, loads, lost, next_chunk, done = 0, {}, 0, 0, 0
    for fut in tasks:
        k, j, n = owner.pop(fut.key)
        try:
            got, (pid, n_loads) = fut.result()
            loads[pid] = max(loads.get(pid, 0), n_loads)
        except KilledWorker as e:
            if n > 1:
                for t in range(n):
                    submit(k, j + t, 1)
                continue
            tries = getattr(e, "allowed_failures", None)
            got = [([], [], "the worker process died while classifying this image"
                            f"{f' ({tries + 1} times)' if tries is not None else ''}; it was not classified")]
            lost += 1
        finally:
            fut.release()
        rows[k][j:j + n] = got
        missing[k] -= n
        while next_chunk < len(chunks) and not missing[next_chunk]:  # stream in input order
            for p, row in zip(chunks[next_chunk], rows[next_chunk]):
                write_row(p, row)
                errors += bool(row[2])
            rows[next_chunk] = None
            done += len(chunks[next_chunk])
            next_chunk += 1
            flush()
        progress.update(done)
    return errors, loads, lost


def run(a):
    import shutil

    paths = collect_inputs(a.inputs)
    if not paths:
        raise BatchError("no images found in " + " ".join(a.inputs))
    model = os.path.abspath(a.model)  # workers resolve it from their own working folder
    if not os.path.isfile(model):
        raise BatchError(f"{a.model}: no such model file")
    labels = _read_labels(a.labels) if a.labels else None
    out_dir = os.path.dirname(os.path.abspath(a.out))
    if not os.path.isdir(out_dir):
        raise BatchError(f"{a.out}: the folder {out_dir} does not exist")
    workers = a.local_workers or _cores()
    threads = a.threads_per_worker or (max(1, _cores() // workers) if not a.scheduler else 1)
    start = time.monotonic()
    client, local = _start_client(a)
    try:
        try:  # a scheduler without workers would otherwise wait for ever
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except (TimeoutError, OSError):
            raise BatchError(f"no Dask worker joined the scheduler within {WORKER_WAIT_S} s") from None
        facts = client.submit(model_facts, model, threads, pure=False).result()
        if labels is not None and len(labels) != facts["classes"]:
            raise BatchError(f"{a.labels}: {len(labels)} labels, the model has {facts['classes']} classes")
        batch = _pick_batch(a, facts)
        chunk = a.chunk or batch * max(4, -(-16 // batch))
        chunks = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
        setup = time.monotonic() - start  # cluster start or connection, and one model load
        progress = _Progress(len(paths), a.progress == "on" or (a.progress == "auto" and sys.stderr.isatty()))
        partial = a.out + ".partial"
        with open(partial, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(_header(a.top))
            errors, loads, lost = _stream_results(
                client, chunks, lambda c: (model, threads, batch, a.top, labels, c),
                lambda p, row: w.writerow(_csv_row(p, row, a.top)), f.flush, progress)
        progress.update(len(paths), final=True)
        finished = time.monotonic()
        os.replace(partial, a.out)
    finally:
        if local:  # a worker restarted after a crash may still be starting: closing it then trips an
            try:   # assertion in distributed 2022.12's shutdown (a traceback, nothing lost); let it finish
                client.wait_for_workers(len(local[0].workers), timeout=10)
            except Exception:  # noqa: BLE001 - best effort; the close below happens anyway
                pass
        client.close()
        if local:
            local[0].close()
            shutil.rmtree(local[1], ignore_errors=True)
    secs = finished - start  # not counting the cluster's shutdown
    print(f"vitc-batch: {len(paths)} images ({errors} with errors) in {secs:.1f} s (set-up {setup:.1f} s, "
          f"then {len(paths) / max(secs - setup, 1e-9):.1f} images/s); {len(chunks)} chunks of up to {chunk}, "
          f"batch {batch}, "
          f"{len(loads)} worker processes, {sum(loads.values())} model loads"
          f"{f', {lost} images lost to crashed workers' if lost else ''}; results in {a.out}",
          file=sys.stderr)
    return 0


def main(argv=None):
    a = _parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(a)
    except (BatchError, vitc.VitcError) as e:
        print(f"vitc-batch: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vitc-batch: interrupted; partial results (if any) are in "
              f"{a.out}.partial", file=sys.stderr)
        return 130


if __name__ == "__main__":  # python3 -m vitc.batch: run the imported module, so that Dask pickles the
    import vitc.batch       # task functions by reference (vitc.batch.classify_chunk), not by value

    sys.exit(vitc.batch.main())
