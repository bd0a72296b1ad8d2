"""Sweep engine: run a function over a list of points, in parallel, caching every finished point.

Each point's result is written atomically to ``cache_dir/<key>.json`` as soon as it returns,
where the key hashes the function name, the point (seed included) and the model it runs (netlists,
cards, the code that renders and runs them: see ``model_fingerprint``), so a sweep killed half
way resumes where it stopped and a finished point is never recomputed. Points run on local
worker processes (joblib/loky, recycled every few points because PySpice leaks memory per
transient) or on a Dask cluster (``scheduler="tcp://host:port"``, dask.distributed's joblib
backend; start its workers with ``--nthreads 1``: ngspice is one simulator per process).

Robustness:

* Ctrl-C ends the sweep with one :class:`SweepInterrupted` ("interrupted: N of M points are cached;
  rerun the same command to resume"), after the local worker processes are killed.
* Local workers watch their parent: if it dies (even by SIGKILL) they exit within about a second
  instead of running on until loky's idle timeout; ngspice subprocesses they start die with them.
* Two sweeps sharing a cache never compute the same point twice: a point is computed under an
  exclusive lock (``cache_dir/locks/<key>.lock``, fcntl), and a sweep finding it locked waits and then
  takes the other's result. A cache entry that is not valid JSON or has no result is recomputed.
* An unreachable ``scheduler`` fails after :data:`SCHEDULER_TIMEOUT_S` with a :class:`SweepError`.
"""

from __future__ import annotations

import contextvars
import fcntl
import functools
import hashlib
import inspect
import json
import os
import threading
import time
from pathlib import Path
from typing import Callable

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from compact_models.render import write_atomic

RECYCLE_EVERY = 16
"""Points per local worker before the worker processes are replaced (PySpice issue 373)."""
SCHEDULER_TIMEOUT_S = 5.0
"""Seconds to reach a Dask scheduler before giving up (``VCMA_SCHEDULER_TIMEOUT_S`` overrides)."""


class SweepError(RuntimeError):
    """A sweep that cannot run (e.g. its Dask scheduler cannot be reached)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep; the message says how many points are cached (a rerun resumes from them)."""


@functools.lru_cache(maxsize=None)
def model_fingerprint(func_file: str) -> str:
    """Hash of what a cached SPICE result depends on besides its point: the shipped netlists, the
    card definitions, the modules that render and run decks, and the file defining the point
    function. A changed model or settle time never reuses a stale cache entry."""
    import compact_models
    from compact_models.render import NETLIST_DIR

    here = Path(__file__).parent
    files = sorted(p for p in NETLIST_DIR.rglob("*") if p.is_file())
    files += sorted(Path(compact_models.__file__).parent.glob("*.py"))
    files += sorted(Path(compact_models.__file__).parent.glob("va/*.va"))
    files += sorted(here.glob("*.py"))  # every module that renders, runs or reads a circuit
    files += [Path(func_file)] if func_file else []
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()


def point_key(func: Callable, point: dict) -> str:
    text = json.dumps({"func": f"{func.__module__}.{func.__qualname__}", "point": point,
                       "model": model_fingerprint(inspect.getsourcefile(func) or "")}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _read_cached(path: Path) -> tuple[bool, object]:
    """(True, result) for a valid cache entry; (False, None) for none, broken JSON or no result."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return False, None
    if not isinstance(entry, dict) or "result" not in entry:
        return False, None
    return True, entry["result"]


_WATCHING = False


def _watch_parent() -> None:
    """In a local worker: exit as soon as the process that started it is gone (see the module docstring)."""
    global _WATCHING
    if _WATCHING:
        return
    _WATCHING = True
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="vcma-parent-watch", daemon=True).start()
    os.environ["VCMA_DIE_WITH_PARENT"] = "1"  # ngspice subprocesses started here get PR_SET_PDEATHSIG


def _call(index: int, func: Callable, point: dict, cache_file: str | None = None, worker: bool = False):
    """``(index, func(**point))``; with ``cache_file``, computed under the point's lock and cached, or read from
    the cache if another sweep computed it meanwhile."""
    if worker:
        _watch_parent()
    if cache_file is None:
        return index, func(**point)
    path = Path(cache_file)
    lock = path.parent / "locks" / f"{path.stem}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits while another sweep computes this point
        try:
            ok, value = _read_cached(path)
            if not ok:
                value = func(**point)
                write_atomic(path, json.dumps({"point": point, "result": value}))
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    return index, value


def _kill_local_workers() -> None:
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=False, kill_workers=True)


def _dask_client(scheduler: str):
    from distributed import Client

    value = os.environ.get("VCMA_SCHEDULER_TIMEOUT_S", "")
    try:
        timeout = float(value) if value else SCHEDULER_TIMEOUT_S
    except ValueError:
        raise SweepError(f"VCMA_SCHEDULER_TIMEOUT_S must be a number of seconds, got {value!r}") from None
    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as err:
        text = " ".join(str(err).split())[:200] or type(err).__name__
        raise SweepError(f"cannot reach the Dask scheduler at {scheduler!r} within {timeout:g} s ({text}); "
                         "check the address and that `dask scheduler` is running there") from None


PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("vcma_sweep_progress", default=True)
"""Whether sweeps draw their progress bar on stderr; a ``--quiet`` command sets it False for its run."""


def run_points(func: Callable, points: list[dict], cache_dir: str | Path | None = None, n_jobs: int = 1,
               scheduler: str | None = None, desc: str = "sweep") -> list:
    """``[func(**p) for p in points]``, computed in parallel, with an on-disk cache for resuming.

    Results must be JSON-serialisable. Returns them in the order of ``points``. Ctrl-C raises
    :class:`SweepInterrupted`; an unreachable scheduler :class:`SweepError`.
    """
    results: list = [None] * len(points)
    keys = [point_key(func, p) for p in points]
    cache = Path(cache_dir) if cache_dir is not None else None
    todo = list(range(len(points)))
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        todo = []
        for i, key in enumerate(keys):
            ok, value = _read_cached(cache / f"{key}.json")
            if ok:
                results[i] = value
            else:
                todo.append(i)
    done = len(points) - len(todo)
    bar = tqdm(total=len(points), initial=done, desc=desc, unit="pt", smoothing=0.1, disable=not PROGRESS.get())

    def cache_file(i: int) -> str | None:
        return None if cache is None else str(cache / f"{keys[i]}.json")

    def consume(stream, write: bool = False) -> None:
        nonlocal done
        for i, value in stream:
            results[i] = value
            if write and cache is not None:
                write_atomic(cache / f"{keys[i]}.json", json.dumps({"point": points[i], "result": value}))
            done += 1
            bar.update(1)

    try:
        if scheduler is not None:
            from joblib import parallel_config

            with _dask_client(scheduler), parallel_config(backend="dask"):
                # remote workers may not share the cache directory: this process writes the entries
                consume(Parallel(n_jobs=-1, return_as="generator_unordered")(
                    delayed(_call)(i, func, points[i]) for i in todo), write=True)
        elif n_jobs == 1:
            consume(_call(i, func, points[i], cache_file(i)) for i in todo)
        else:
            from joblib.externals.loky import get_reusable_executor

            chunk = RECYCLE_EVERY * n_jobs
            for start in range(0, len(todo), chunk):
                part = todo[start:start + chunk]
                consume(Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")(
                    delayed(_call)(i, func, points[i], cache_file(i), True) for i in part))
                get_reusable_executor().shutdown(wait=True)
    except KeyboardInterrupt:
        if n_jobs != 1 and scheduler is None:
            _kill_local_workers()
        cached = len(points) - sum(1 for i, k in enumerate(keys) if not _read_cached(cache / f"{k}.json")[0]) \
            if cache is not None else 0
        if cache is not None:
            raise SweepInterrupted(f"interrupted: {cached} of {len(points)} points are cached; rerun the same "
                                   "command to resume") from None
        raise SweepInterrupted(f"interrupted: {done} of {len(points)} points were done (no cache, so a rerun starts "
                               "over)") from None
    finally:
        bar.close()
    return results
