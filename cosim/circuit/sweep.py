"""Sweep engine: run a function over a list of points, in parallel, caching every finished point.

Each point's result is written atomically to ``cache_dir/<key>.json`` as soon as it returns,
where the key hashes the function name, the point (seed included) and the model it runs (netlists,
cards, the code that renders and runs them: see ``model_fingerprint``), so a sweep killed half
way resumes where it stopped and a finished point is never recomputed. Points run on local
worker processes (joblib/loky, recycled every few points because PySpice leaks memory per
transient) or on a Dask cluster (``scheduler="tcp://host:port"``, dask.distributed's joblib
backend; start its workers with ``--nthreads 1``: ngspice is one simulator per process).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from pathlib import Path
from typing import Callable

from joblib import Parallel, delayed
from tqdm.auto import tqdm

from compact_models.render import write_atomic

RECYCLE_EVERY = 16
"""Points per local worker before the worker processes are replaced (PySpice issue 373)."""


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


def _call(index: int, func: Callable, point: dict):
    return index, func(**point)


def run_points(func: Callable, points: list[dict], cache_dir: str | Path | None = None, n_jobs: int = 1,
               scheduler: str | None = None, desc: str = "sweep") -> list:
    """``[func(**p) for p in points]``, computed in parallel, with an on-disk cache for resuming.

    Results must be JSON-serialisable. Returns them in the order of ``points``.
    """
    results: list = [None] * len(points)
    keys = [point_key(func, p) for p in points]
    cache = Path(cache_dir) if cache_dir is not None else None
    todo = list(range(len(points)))
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        todo = []
        for i, key in enumerate(keys):
            f = cache / f"{key}.json"
            if f.is_file():
                results[i] = json.loads(f.read_text())["result"]
            else:
                todo.append(i)
    bar = tqdm(total=len(points), initial=len(points) - len(todo), desc=desc, unit="pt", smoothing=0.1)

    def consume(stream) -> None:
        for i, value in stream:
            results[i] = value
            if cache is not None:
                write_atomic(cache / f"{keys[i]}.json", json.dumps({"point": points[i], "result": value}))
            bar.update(1)

    try:
        if scheduler is not None:
            from distributed import Client
            from joblib import parallel_config

            with Client(scheduler), parallel_config(backend="dask"):
                consume(Parallel(n_jobs=-1, return_as="generator_unordered")(
                    delayed(_call)(i, func, points[i]) for i in todo))
        elif n_jobs == 1:
            consume(_call(i, func, points[i]) for i in todo)
        else:
            from joblib.externals.loky import get_reusable_executor

            chunk = RECYCLE_EVERY * n_jobs
            for start in range(0, len(todo), chunk):
                part = todo[start:start + chunk]
                consume(Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")(
                    delayed(_call)(i, func, points[i]) for i in part))
                get_reusable_executor().shutdown(wait=True)
    finally:
        bar.close()
    return results
