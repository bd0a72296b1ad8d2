"""Hostile input at the boundary of every ``vcma`` command (issue #14).

Each case must be refused before anything long runs: exit status 2, exactly one ``vcma: error:``
line on stderr, no traceback, nothing written to the output folder, and a short wall time. Most
cases call :func:`cosim.app.cli.main` in-process; a few run the real command line.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from compact_models.render import NETLIST_DIR

IV = str(NETLIST_DIR / "mtj_iv.cir")
WALL_S = 30.0

# Placeholders: {out} the (empty) output folder, also the working directory; {dir} an existing folder;
# {file} an existing regular text file; {empty} an empty file; {rnd} random bytes; {rndnpy} random bytes
# named .npy; {objnpy} a .npy of Python objects; {twos} a .npy of 2s; {few} 4 bits of text; {xtxt} text
# with a letter; {missing} a path that does not exist.
BAD_TEMPS = ["300", "-60", "151", "nan", "inf", "-inf", "1e9", "abc"]
BAD_SPICE_SEEDS = ["0", "-1", "2147483648", "1.5"]
BAD_CORNERS = ["zz", "TT", ""]


def _common(prefix: list[str], temps=BAD_TEMPS, seeds=BAD_SPICE_SEEDS, corners=BAD_CORNERS):
    return ([prefix + ["--temp", t] for t in temps] + [prefix + ["--seed", s] for s in seeds]
            + [prefix + ["--corner", c] for c in corners])


CASES: list[list[str]] = []

# vcma spice run
RUN = ["spice", "run", IV]
CASES += [
    ["spice", "run", "{missing}"], ["spice", "run", "{dir}"], ["spice", "run", "{empty}"],
    ["spice", "run", "{blank}"], ["spice", "run", "/dev/null"], ["spice", "run"],
    RUN + ["--param", "bogus=1"], RUN + ["--param", "alpha=0"], RUN + ["--param", "alpha"],
    RUN + ["--param", "=1"], RUN + ["--param", "alpha=nan"], RUN + ["--param", "alpha=inf"],
    RUN + ["--param", "tmr0=1x"], RUN + ["--param", "mtj_d=1meg"],
    RUN + ["--plot", "{dir}"], RUN + ["--plot", "/dev/null"], RUN + ["--plot", "{file}/x.png"],
    RUN + ["--model-lib", "{dir}"], RUN + ["--model-lib", "{empty}"], RUN + ["--model-lib", "{missing}"],
    RUN + ["--backend", "bogus"], RUN + ["--model", "bogus"], RUN + ["--bogus"],
] + _common(RUN)

# vcma spice trng
TRNG = ["spice", "trng", "--cycles", "2"]
CASES += [["spice", "trng", "--cycles", c] for c in ("0", "-1", "10001", "x", "2.5")]
CASES += [TRNG + ["--t-pulse", t] for t in ("500", "5n", "0", "-1n", "nan", "inf", "1x", "1p", "0.95n")]
CASES += [TRNG + ["--v-write", v] for v in ("1meg", "3", "0", "-1", "nan", "abc", "2.6")]
CASES += [TRNG + ["--param", p] for p in ("t_pulse=5n", "v_write=1meg", "t_slot=0", "t_reset=2n", "v_read=nan")]
CASES += [TRNG + ["--bits-out", "{dir}"], TRNG + ["--bits-out", "/dev/null"], TRNG + ["--bits-out", "{file}/x.npy"],
          TRNG + ["--plot", "{dir}"], TRNG + ["--plot", "/dev/null"],
          TRNG + ["--bits-out", "{out}/b.npy", "--plot", "{out}/b.npy"]]
CASES += _common(TRNG, temps=["300", "-273.15", "nan", "200"], seeds=["0", "-5"], corners=["zz"])

# vcma spice switching
SW = ["spice", "switching", "--trials", "2"]
CASES += [SW + ["--v-write", v] for v in ("3", "1meg", "nan", "abc", "-3")]
CASES += [SW + ["--t-pulse", *t] for t in (["0"], ["1"], ["5p"], ["nan"], ["0.5n", "0"], ["-1n"])]
CASES += [["spice", "switching", "--trials", n] for n in ("0", "-1", "100001")]
CASES += [SW + ["--jobs", j] for j in ("0", "-2", "1000")]
CASES += [SW + ["--plot", "{dir}"], SW + ["--plot", "/dev/null"]]
CASES += _common(SW, temps=["300", "nan", "-100"], seeds=["0"], corners=["zz"])

# vcma spice crossbar-read / crossbar-write
for cmd, extra in (("crossbar-read", ["--sense-amp", "bogus"]), ("crossbar-write", ["--scheme", "v9"])):
    XB = ["spice", cmd, "--rows", "2", "--cols", "2", "--trials", "2"]
    CASES += [
        ["spice", cmd, "--rows", "65", "--cols", "65"], ["spice", cmd, "--rows", "0"], ["spice", cmd, "--cols", "-1"],
        ["spice", cmd, "--rows", "1000"], XB + ["--trials", "0"], XB + ["--jobs", "0"],
        XB + ["--out", "{file}"], XB + ["--out", "{file}/sub"], XB + ["--netlist-out", "{dir}"],
        XB + ["--netlist-out", "/dev/null"], XB + ["--param", "xb_vwrite=1meg"], XB + ["--param", "xb_twrite=0"],
        XB + ["--param", "xb_vread=nan"], XB + ["--model-lib", "/no/such/pdk.lib"], XB + ["--model-lib", "{dir}"],
        XB + extra, XB + ["--temp", "300"], XB + ["--temp", "nan"], XB + ["--corner", "zz"], XB + ["--seed", "0"],
    ]

# vcma cards render
CASES += [["cards"], ["cards", "bogus"], ["cards", "render", "--bogus"], ["cards", "render", "extra"]]

# vcma lut build / cell / show / validate
BUILD = ["lut", "build", "--out", "{out}/x.lut.npz"]
CASES += [BUILD + a for a in (["--trials", "0"], ["--trials", "-1"], ["--rows", "65"], ["--cols", "0"], ["--jobs", "0"],
                              ["--check-runs", "-1"], ["--temp", "300"], ["--temp", "nan"], ["--corner", "zz"],
                              ["--kind", "bogus"], ["--cache", "{file}"], ["--trials", "1e3"])]
CASES += [["lut", "build"], ["lut", "build", "--out", "{dir}"], ["lut", "build", "--out", "/dev/null"],
          ["lut", "build", "--out", "{file}/x.npz"]]
CASES += [["lut", "cell", f] for f in ("{dir}", "{missing}", "{empty}", "{rnd}", "/dev/null")]
CASES += [["lut", "cell", "{rnd}", *a] for a in (["--check-runs", "-1"], ["--jobs", "0"], ["--cache", "{file}"],
                                                 ["--out", "{dir}"])]
CASES += [["lut", "show", f] for f in ("{dir}", "{missing}", "{empty}", "{rnd}", "/dev/null", "{twos}")]
CASES += [["lut", "show", "{rnd}", "--plot", "{dir}"], ["lut", "show", "{rnd}", "--plot", "/dev/null"]]
CASES += [["lut", "validate", "{rnd}", *a] for a in (["--points", "0"], ["--points", "-3"], ["--trials", "0"],
                                                     ["--seed", "0"], ["--jobs", "0"], ["--points", "x"])]
CASES += [["lut", "validate", f] for f in ("{dir}", "{missing}", "{rnd}", "{empty}", "/dev/null")]

# vcma emulate
EMU = ["emulate", "--cycles", "10"]
CASES += [["emulate", "--cycles", c] for c in ("-5", "0", "1e3")]
CASES += [EMU + a for a in (
    ["--rows", "0"], ["--rows", "5000"], ["--cols", "-1"], ["--v-write", "3"], ["--v-write", "0"],
    ["--v-write", "nan"], ["--v-write", "1meg"], ["--t-pulse", "5n"], ["--t-pulse", "500"], ["--t-pulse", "0"],
    ["--t-pulse", "abc"], ["--seed", "-1"], ["--chip-seed", "-1"], ["--variation", "-1"], ["--variation", "nan"],
    ["--variation", "11"], ["--correlation", "1"], ["--correlation", "-1"], ["--correlation", "nan"],
    ["--temp", "300"], ["--corner", "zz"], ["--lut", "{dir}"], ["--lut", "{empty}"], ["--lut", "{rnd}"],
    ["--lut", "{missing}"], ["--write-lut", "{dir}"], ["--read-lut", "{empty}"], ["--out", "{dir}"],
    ["--out", "/dev/null"], ["--plot", "{dir}"], ["--transform", "bogus", "--plot", "{out}/e.png"],
    ["--calibration", "bogus"])]
CASES += [["emulate", "--cycles", "100000", "--rows", "4096", "--cols", "4096"]]

# vcma trng report
CASES += [["trng", "report", f] for f in ("{missing}", "{dir}", "{empty}", "{rnd}", "{rndnpy}", "{objnpy}", "{twos}",
                                          "{xtxt}", "{few}", "/dev/null")]
CASES += [["trng", "report"], ["trng"]]

# vcma demo
CASES += [["demo", *a] for a in (
    ["--images", "0"], ["--images", "-1"], ["--seeds", "0"], ["--steps", "0"], ["--cycles", "0"], ["--trials", "0"],
    ["--threads", "0"], ["--seed", "0"], ["--sources", "bogus"], ["--sources", ","], ["--out", "{file}"],
    ["--lut", "{dir}"], ["--ddpm", "{missing}"], ["--ddpm", "{dir}"], ["--classifier", "{empty}"],
    ["--images", "x"])]

# vcma diffusion sensitivity
CASES += [["diffusion", "sensitivity", *a] for a in (
    ["--images", "0"], ["--images", "1"], ["--steps", "0"], ["--ref-seeds", "0"], ["--threads", "0"], ["--seed", "0"],
    ["--levels", "bias"], ["--levels", "bias=2"], ["--levels", "bias=nan"], ["--levels", "corner=1"],
    ["--levels", "correlation=1"], ["--levels", "sense_error=-0.1"], ["--sweeps", "bogus"], ["--lut-dir", "{file}"],
    ["--lut-dir", "{missing}"], ["--out", "{file}"])]
CASES += [["diffusion"], ["diffusion", "bogus"], [], ["bogus"]]


def _fixtures(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "folder").mkdir()
    (inp / "text.txt").write_text("hello\n")
    (inp / "empty.cir").write_bytes(b"")
    (inp / "blank.cir").write_text("\n\n   \n")
    rng = np.random.default_rng(0)
    (inp / "random.bin").write_bytes(rng.bytes(4096))
    (inp / "random.npy").write_bytes(rng.bytes(4096))
    np.save(inp / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(inp / "twos.npy", np.full(2000, 2, dtype=np.uint8))
    (inp / "few.txt").write_text("0 1 1 0\n")
    (inp / "letters.txt").write_text("0101x0101\n")
    out = tmp_path / "out"
    out.mkdir()
    return {"out": str(out), "dir": str(inp / "folder"), "file": str(inp / "text.txt"),
            "empty": str(inp / "empty.cir"), "blank": str(inp / "blank.cir"), "rnd": str(inp / "random.bin"),
            "rndnpy": str(inp / "random.npy"), "objnpy": str(inp / "objects.npy"), "twos": str(inp / "twos.npy"),
            "few": str(inp / "few.txt"), "xtxt": str(inp / "letters.txt"), "missing": str(inp / "missing.npz")}


def _argv(case, places):
    return [a.format(**places) for a in case]


def _check(rc, err, out_dir, wall):
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("vcma: error: "), err
    assert "Traceback" not in err
    assert list(out_dir.iterdir()) == [], list(out_dir.iterdir())
    assert wall < WALL_S


def test_enough_cases():
    assert len(CASES) >= 150
    assert len({tuple(c) for c in CASES}) == len(CASES), "duplicate cases"


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c)[:80] or "<none>" for c in CASES])
def test_hostile_input_is_refused(case, tmp_path, capsys, monkeypatch):
    from cosim.app.cli import main

    places = _fixtures(tmp_path)
    monkeypatch.chdir(places["out"])  # default relative outputs (out/..., .vcma_cache) would land here
    start = time.perf_counter()
    try:
        rc = main(_argv(case, places))
    except SystemExit as exc:
        rc = exc.code
    wall = time.perf_counter() - start
    _check(rc, capsys.readouterr().err, tmp_path / "out", wall)


SUBPROCESS = [
    ["spice", "trng", "--t-pulse", "500"],
    ["spice", "run", "{dir}"],
    ["lut", "build", "--trials", "0", "--out", "{out}/x.lut.npz"],
    ["emulate", "--cycles", "-5"],
    ["trng", "report", "{rndnpy}"],
    ["spice", "crossbar-read", "--rows", "65", "--cols", "65"],
]


@pytest.mark.parametrize("case", SUBPROCESS, ids=[" ".join(c) for c in SUBPROCESS])
def test_hostile_input_subprocess(case, tmp_path):
    places = _fixtures(tmp_path)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cosim.app.cli", *_argv(case, places)], capture_output=True,
                          text=True, timeout=120, cwd=places["out"])
    _check(proc.returncode, proc.stderr, tmp_path / "out", time.perf_counter() - start)


def test_messages_say_what_is_wrong(tmp_path, capsys, monkeypatch):
    from cosim.app.cli import main

    places = _fixtures(tmp_path)
    monkeypatch.chdir(places["out"])
    expect = [
        (["spice", "trng", "--temp", "300"], "300 C is outside the operating range -55..150 C; if you meant 300 K, "
                                             "that is 26.85 C"),
        (["spice", "trng", "--t-pulse", "5n"], "does not fit its slot"),
        (["spice", "trng", "--t-pulse", "500"], "is out of its physical range (0, 1e-07]"),
        (["spice", "trng", "--v-write", "1meg"], "|V| <= 2.5 V"),
        (["spice", "crossbar-write", "--rows", "65", "--cols", "65"], "up to 64 x 64"),
        (["lut", "build", "--trials", "0", "--out", "x.npz"], "--trials must be an integer in 1 .."),
        (["lut", "validate", places["rnd"], "--points", "0"], "--points must be an integer in 1 .."),
        (["emulate", "--out", "/dev/null"], "not a regular file"),
        (["lut", "build", "--cache", places["file"], "--out", "x.npz"], "exists and is not a folder"),
        (["spice", "run", places["dir"]], f"{places['dir']}: is a folder, not a file"),
        (["trng", "report", places["missing"]], f"{places['missing']}: file not found"),
        (["spice", "run", places["blank"]], "the netlist is empty"),
        (["trng", "report", places["objnpy"]], "holds Python objects"),
        (["trng", "report", places["rndnpy"]], "no NumPy header"),
    ]
    for argv, message in expect:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err, (argv, err)
        assert "allow_pickle" not in err


def test_dc_netlist_plots_against_the_sweep(tmp_path, capsys):
    from cosim.app.cli import main

    plot = tmp_path / "iv.png"
    assert main(["spice", "run", IV, "--plot", str(plot)]) == 0
    assert plot.stat().st_size > 0
    assert main(["spice", "run", IV, "--plot", str(tmp_path / "v.png"), "--vectors", "v(nope)"]) == 2
    err = capsys.readouterr().err
    assert "--vectors: no vector(s) ['v(nope)']" in err and not (tmp_path / "v.png").exists()


def _raising(exc):
    def run(*args, **kwargs):
        raise exc
    return run


def test_failed_run_is_one_line_exit_1(monkeypatch, capsys, tmp_path):
    import tempfile

    from cosim.app.cli import main
    from cosim.circuit import spice
    from cosim.circuit.spice import SpiceError

    tmp_deck = f"{tempfile.gettempdir()}/tmpk3j2h1/deck.cir"  # the subprocess backend's copy of the user's deck
    text = f"ngspice: {tmp_deck}: timestep too small; time = 1e-9\nsecond line\n  deck line 4: R1 a b 1k"
    monkeypatch.setattr(spice, "run_netlist", _raising(SpiceError(text)))
    assert main(["spice", "run", IV]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vcma: error: ngspice: ") and "timestep too small" in err
    assert tmp_deck not in err and IV in err and "--verbose" in err
    assert main(["--verbose", "spice", "run", IV]) == 1
    err = capsys.readouterr().err
    assert "second line" in err and "deck line 4" in err and "Traceback" not in err
    assert main(["spice", "run", IV, "--verbose"]) == 1
    assert "second line" in capsys.readouterr().err
    rendered = f"{tempfile.gettempdir()}/vcma_trng_abc123/trng_cell_3.cir"
    monkeypatch.setattr("cosim.circuit.trng.run_netlist", _raising(SpiceError(f"ngspice: {rendered}: singular matrix")))
    assert main(["spice", "trng", "--cycles", "3"]) == 1
    err = capsys.readouterr().err
    assert err == "vcma: error: ngspice: <generated trng_cell_3.cir>: singular matrix\n"


def test_os_errors_name_the_users_path(monkeypatch, capsys, tmp_path):
    import errno

    from cosim.app.cli import main

    hidden = str(tmp_path / ".iv.tmp.png")
    for exc, reason in ((PermissionError(errno.EACCES, "Permission denied", hidden), "Permission denied"),
                        (OSError(errno.ENOSPC, "No space left on device", hidden), "No space left on device"),
                        (IsADirectoryError(errno.EISDIR, "Is a directory", hidden), "Is a directory")):
        monkeypatch.setattr("cosim.circuit.spice.run_netlist", _raising(exc))
        assert main(["spice", "run", IV]) == 1
        err = capsys.readouterr().err
        assert err == f"vcma: error: {tmp_path / 'iv.png'}: {reason}\n"


def test_interrupt_exits_130(monkeypatch, capsys):
    from cosim.app.cli import main

    monkeypatch.setattr("cosim.circuit.spice.run_netlist", _raising(KeyboardInterrupt()))
    assert main(["spice", "run", IV]) == 130
    assert capsys.readouterr().err == "vcma: interrupted\n"
    msg = "interrupted: 3 of 12 points are cached; rerun the same command to resume"
    monkeypatch.setattr("cosim.circuit.spice.run_netlist", _raising(KeyboardInterrupt(msg)))
    assert main(["spice", "run", IV]) == 130
    assert capsys.readouterr().err == f"vcma: {msg}\n"


def test_bugs_still_show_a_traceback(monkeypatch):
    from cosim.app.cli import main

    monkeypatch.setattr("cosim.circuit.spice.run_netlist", _raising(ZeroDivisionError("bug")))
    with pytest.raises(ZeroDivisionError):
        main(["spice", "run", IV])
