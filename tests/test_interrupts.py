"""Interrupts, kills, time limits and the sweep cache (issue #14): Ctrl-C ends a sweep with one message and no
worker left; workers die with a SIGKILLed parent; a rerun resumes; two sweeps never compute a point twice;
broken cache entries are recomputed; an unreachable scheduler fails fast; every ngspice run has a time limit."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cosim.circuit.deck import NetlistError
from cosim.circuit.spice import SpiceTimeout, run_netlist, spice_timeout_s
from cosim.circuit.sweep import SweepError, point_key, run_points

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from sweep_fixture import slow_square  # noqa: E402


def _points(markers: Path, n: int = 12, delay_s: float = 0.4) -> list[dict]:
    return [{"x": float(x), "marker_dir": str(markers), "delay_s": delay_s} for x in range(n)]


def _script(points, cache, n_jobs) -> str:
    return (f"import sys; sys.path.insert(0, {str(HERE)!r}); from sweep_fixture import slow_square\n"
            "from cosim.circuit.sweep import run_points, SweepInterrupted\n"
            f"try:\n    run_points(slow_square, {points!r}, {str(cache)!r}, n_jobs={n_jobs})\n"
            "except SweepInterrupted as err:\n    print(err, flush=True); sys.exit(130)\n")


def _as_in_a_terminal() -> None:
    """Child setup: Ctrl-C acts as in a terminal. A job started with `&` from a non-interactive shell (a CI
    runner, `nohup ... &`) inherits SIGINT ignored, and its children would never see the test's Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(points, cache, n_jobs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _script(points, cache, n_jobs)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True,
                            preexec_fn=_as_in_a_terminal)


def _wait_cached(cache: Path, n: int, proc: subprocess.Popen, timeout_s: float = 90) -> set[int]:
    deadline = time.time() + timeout_s
    family: set[int] = set()
    while time.time() < deadline:
        try:
            family |= {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            break
        if len(list(cache.glob("*.json"))) >= n:
            return family
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} points cached in {timeout_s} s")


def _alive(pids: set[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _assert_resumes(points, cache, markers) -> None:
    cached = len(list(cache.glob("*.json")))
    before = len(list(markers.iterdir()))
    assert run_points(slow_square, points, cache) == [p["x"] ** 2 for p in points]
    assert len(list(markers.iterdir())) - before == len(points) - cached


@pytest.mark.slow
def test_ctrl_c_ends_the_sweep_with_one_message_kills_the_workers_and_a_rerun_resumes(tmp_path):
    cache, markers = tmp_path / "cache", tmp_path / "markers"
    markers.mkdir()
    points = _points(markers)
    proc = _start(points, cache, n_jobs=2)
    family = _wait_cached(cache, 3, proc)
    assert family, "no worker processes seen"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, out
    cached = len(list(cache.glob("*.json")))
    assert f"interrupted: {cached} of 12 points are cached; rerun the same command to resume" in out
    time.sleep(5)
    assert _alive(family | {proc.pid}) == []
    _assert_resumes(points, cache, markers)


@pytest.mark.slow
def test_workers_of_a_killed_sweep_exit_and_a_rerun_resumes(tmp_path):
    cache, markers = tmp_path / "cache", tmp_path / "markers"
    markers.mkdir()
    points = _points(markers)
    proc = _start(points, cache, n_jobs=2)
    family = _wait_cached(cache, 3, proc)
    assert family, "no worker processes seen"
    proc.kill()  # SIGKILL of the parent only: its workers must notice and go
    proc.wait()
    time.sleep(5)
    assert _alive(family) == []
    _assert_resumes(points, cache, markers)


@pytest.mark.slow
def test_two_sweeps_sharing_a_cache_compute_each_point_once(tmp_path):
    cache, markers = tmp_path / "cache", tmp_path / "markers"
    markers.mkdir()
    points = _points(markers, n=8, delay_s=0.3)
    procs = [_start(points, cache, n_jobs=1) for _ in range(2)]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    assert len(list(markers.iterdir())) == 8  # the second sweep waited for the first's results
    assert run_points(slow_square, points, cache) == [p["x"] ** 2 for p in points]
    assert len(list(markers.iterdir())) == 8


def test_broken_cache_entries_are_recomputed(tmp_path):
    cache, markers = tmp_path / "cache", tmp_path / "markers"
    markers.mkdir()
    points = _points(markers, n=4, delay_s=0.0)
    assert run_points(slow_square, points, cache) == [0.0, 1.0, 4.0, 9.0]
    (cache / f"{point_key(slow_square, points[1])}.json").write_text('{"point": {}, "res')
    (cache / f"{point_key(slow_square, points[2])}.json").write_text(json.dumps({"point": points[2]}))
    (cache / f"{point_key(slow_square, points[3])}.json").write_text("[1, 2]")
    assert run_points(slow_square, points, cache) == [0.0, 1.0, 4.0, 9.0]
    assert len(list(markers.iterdir())) == 4 + 3


def test_unreachable_scheduler_fails_fast_with_one_message(tmp_path):
    start = time.monotonic()
    with pytest.raises(SweepError, match=r"cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 5 s"):
        run_points(slow_square, _points(tmp_path, n=1), scheduler="tcp://127.0.0.1:9")
    assert time.monotonic() - start < 15


def _slow_deck(tmp_path) -> Path:
    path = tmp_path / "slow.cir"  # 4e7 time points: minutes of simulation, under the 5e7 bound
    path.write_text("* slow rc\nV1 a 0 SIN(0 1 1meg)\nR1 a b 1k\nC1 b 0 1n\n.tran 1n 40m 0 1n\n.end\n")
    return path


@pytest.mark.parametrize("backend", ["shared", "subprocess"])
def test_every_simulator_run_has_a_time_limit(tmp_path, monkeypatch, backend):
    start = time.monotonic()
    with pytest.raises(SpiceTimeout, match="did not finish within 1 s"):
        run_netlist(_slow_deck(tmp_path), backend=backend, timeout_s=1.0)
    monkeypatch.setenv("VCMA_SPICE_TIMEOUT_S", "1.5")
    assert spice_timeout_s() == 1.5
    with pytest.raises(SpiceTimeout, match="did not finish within 1.5 s"):
        run_netlist(_slow_deck(tmp_path), backend=backend)
    assert time.monotonic() - start < 20
    rc = tmp_path / "rc.cir"  # the simulator still works afterwards
    rc.write_text("* rc\nV1 a 0 PULSE(0 1 0 1p 1p 1 2)\nR1 a b 1k\nC1 b 0 1n\n.tran 10n 5u\n"
                  ".meas tran vb1 find v(b) at=1u\n.end\n")
    assert run_netlist(rc, backend=backend).measures["vb1"] == pytest.approx(0.632, abs=1e-3)


def test_default_time_limit_and_bad_settings(monkeypatch):
    monkeypatch.delenv("VCMA_SPICE_TIMEOUT_S", raising=False)
    assert spice_timeout_s() == 900.0
    assert spice_timeout_s(12) == 12.0
    monkeypatch.setenv("VCMA_SPICE_TIMEOUT_S", "soon")
    with pytest.raises(Exception, match="VCMA_SPICE_TIMEOUT_S must be a number of seconds > 0, got 'soon'"):
        spice_timeout_s()


def test_a_transient_with_too_many_points_is_refused_before_running(tmp_path):
    path = tmp_path / "huge.cir"
    path.write_text("* femtosecond steps over a millisecond\n.param tstop=1m\nV1 a 0 1\nR1 a b 1k\nC1 b 0 1n\n"
                    ".tran 1f {tstop}\n.end\n")
    start = time.monotonic()
    with pytest.raises(NetlistError, match=r"transient '\.tran 1f \{tstop\}' needs at least 1e\+12 time points"):
        run_netlist(path)
    assert time.monotonic() - start < 5


def _demo(tmp_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cosim.app.cli", "demo", "--out", str(tmp_path / "demo"),
                             "--images", "64", "--seeds", "2", "--steps", "20", "--sources", "software,mtj"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_as_in_a_terminal)


def _family(proc: subprocess.Popen, seconds: float) -> set[int]:
    """The demo's process tree, watched for ``seconds`` (its SPICE workers come and go)."""
    seen, end = {proc.pid}, time.monotonic() + seconds
    while time.monotonic() < end and proc.poll() is None:
        try:
            seen |= {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_or_killed_demo_leaves_no_process(tmp_path, sig):
    """Ctrl-C during `vcma demo`: exit 130 with one line; SIGKILL: nothing of it alive 5 s later."""
    proc = _demo(tmp_path)
    pids = _family(proc, 12.0)
    assert proc.poll() is None, "the demo ended before it could be interrupted"
    os.killpg(proc.pid, sig)
    proc.wait(timeout=60)
    time.sleep(5)
    assert not _alive(pids), f"still alive 5 s after {sig.name}: {_alive(pids)}"
    if sig == signal.SIGINT:
        err = proc.stderr.read()
        assert proc.returncode == 130 and "Traceback" not in err
        lines = [ln for ln in err.replace("\r", "\n").splitlines() if ln.startswith("vcma:")]
        assert len(lines) == 1 and "interrupted" in lines[0], err[-2000:]
