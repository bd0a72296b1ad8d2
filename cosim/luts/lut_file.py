"""Reading a LUT file without trusting it: the zip and ``.npy`` layer and the value and provenance rules
(:mod:`cosim.luts.lut` holds the format and the :class:`~cosim.luts.lut.Lut` class). No pickle is ever
loaded; sizes are judged from the zip directory before anything is decompressed."""

from __future__ import annotations

import json
import math
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Literal, get_args

import numpy as np
from numpy.lib import format as npy_format


SCHEMA_VERSION = 1
LutKind = Literal["trng", "read", "write"]
LUT_KINDS: tuple[str, ...] = get_args(LutKind)


class LutError(ValueError):
    """A LUT file or query that cannot be used (names the file, axis or variable)."""


# Loading checks ---------------------------------------------------------------------------------------------------

MAX_FILE_BYTES = 256 * 2**20
"""Largest LUT file accepted on disk (the shipped ones are about 20 kB)."""
MAX_MEMBERS = 1024
"""Most zip members (arrays) a LUT may hold."""
MAX_MEMBER_BYTES = 64 * 2**20
"""Largest uncompressed member (8 M float64 values), judged from the zip directory before reading it."""
MAX_TOTAL_BYTES = 256 * 2**20
"""Largest total of uncompressed members."""
MAX_NPY_HEADER = 10_000
"""Largest ``.npy`` header (numpy's own default bound)."""

_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error, NotImplementedError,
               RuntimeError, UnicodeDecodeError, KeyError, IndexError, OverflowError, SyntaxError, TypeError)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a LUT file by name, every size checked before anything is decompressed or allocated."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LutError(f"{path}: {size} bytes, over the {MAX_FILE_BYTES} bytes a LUT file may have")
    try:
        zf = zipfile.ZipFile(path)
    except _ZIP_ERRORS as err:
        raise LutError(f"{path}: not a readable LUT file (truncated or corrupted?): {_one_line(err)}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise LutError(f"{path}: {len(infos)} zip members, over the {MAX_MEMBERS} a LUT may have")
        names = [info.filename for info in infos]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise LutError(f"{path}: zip member {dup[0]!r} appears more than once")
        total = 0
        for info in infos:
            if not info.filename.endswith(".npy") or info.filename.count("/"):
                raise LutError(f"{path}: zip member {info.filename!r} is not a LUT array (.npy)")
            if info.flag_bits & 0x1:
                raise LutError(f"{path}: zip member {info.filename!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise LutError(f"{path}: zip member {info.filename!r} uses compression method {info.compress_type}, "
                               "not stored or deflate")
            if info.file_size > MAX_MEMBER_BYTES:
                raise LutError(f"{path}: zip member {info.filename!r} declares {info.file_size} bytes uncompressed, "
                               f"over the {MAX_MEMBER_BYTES} bytes a LUT array may have")
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise LutError(f"{path}: its members declare {total} bytes uncompressed, over the {MAX_TOTAL_BYTES} "
                           "bytes a LUT may have")
        if "__meta__.npy" not in names:
            raise LutError(f"{path}: not a LUT file: it has no header (__meta__)")
        arrays = {}
        for info in infos:
            name = info.filename[:-len(".npy")]
            try:
                arrays[name] = _read_npy(zf, info, name)
            except LutError as err:
                raise LutError(f"{path}: {err}") from None
            except _ZIP_ERRORS as err:
                raise LutError(f"{path}: corrupted file (member {info.filename!r}: {_one_line(err)})") from None
    return arrays


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> np.ndarray:
    """One ``.npy`` member: its header's dtype and shape checked against the member's size before reading."""
    with zf.open(info) as fp:
        version = npy_format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fp, max_header_size=MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fp, max_header_size=MAX_NPY_HEADER)
        else:
            raise LutError(f"array {name!r}: unsupported .npy format version {version}")
        if dtype.hasobject:
            raise LutError(f"array {name!r} holds Python objects; LUT files hold numbers only and are never unpickled")
        if name == "__meta__":
            if dtype.kind != "U" or dtype.byteorder == ">" or shape != ():
                raise LutError(f"header __meta__ is a {dtype} array of shape {shape}, not a unicode string")
        elif dtype != np.dtype("<f8") or fortran:
            raise LutError(f"array {name!r} is {dtype}{' (Fortran order)' if fortran else ''}; LUT arrays are "
                           "little-endian float64 in C order")
        if any(n < 0 for n in shape):
            raise LutError(f"array {name!r} declares a negative shape {shape}")
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        start = fp.tell()
        if start + nbytes != info.file_size:
            raise LutError(f"array {name!r} declares shape {shape} ({nbytes} bytes) but its member holds "
                           f"{info.file_size - start} bytes")
        data = fp.read(nbytes)
        if len(data) != nbytes or fp.read(1):
            raise LutError(f"corrupted file (member {info.filename!r} is not {nbytes} bytes long)")
    return np.frombuffer(data, dtype=dtype, count=count).reshape(shape).copy()


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def parse_meta(path: Path, raw: np.ndarray) -> dict:
    """The JSON header, every field the toolkit reads checked for type (and range where it matters)."""
    try:
        meta = json.loads(str(raw.item()))
    except (json.JSONDecodeError, RecursionError, ValueError) as err:
        raise LutError(f"{path}: corrupted header (not JSON: {_one_line(err)})") from None
    if not isinstance(meta, dict):
        raise LutError(f"{path}: header is a JSON {type(meta).__name__}, not an object")
    missing = [k for k in ("schema", "kind", "axes", "variables", "provenance") if k not in meta]
    if missing:
        raise LutError(f"{path}: header has no {missing[0]!r} field")
    schema = meta["schema"]
    if type(schema) is not int or schema != SCHEMA_VERSION:
        raise LutError(f"{path}: LUT schema {schema!r}, this toolkit reads schema {SCHEMA_VERSION}")
    if not isinstance(meta["kind"], str) or meta["kind"] not in LUT_KINDS:
        raise LutError(f"{path}: header kind {meta['kind']!r} is not one of {list(LUT_KINDS)}")
    axes, variables = meta["axes"], meta["variables"]
    if not isinstance(axes, dict) or not axes:
        raise LutError(f"{path}: header axes must be a non-empty object of name: unit, got {_brief(axes)}")
    for name, unit in axes.items():
        if not isinstance(unit, str):
            raise LutError(f"{path}: axis {name!r} has unit {_brief(unit)}, not a string")
    if not isinstance(variables, dict) or not variables:
        raise LutError(f"{path}: header variables must be a non-empty object, got {_brief(variables)}")
    for name, spec in variables.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("unit"), str):
            raise LutError(f"{path}: variable {name!r} must be an object with a string unit, got {_brief(spec)}")
        var_axes = spec.get("axes")
        if not isinstance(var_axes, list) or not all(isinstance(a, str) for a in var_axes):
            raise LutError(f"{path}: variable {name!r} axes must be a list of axis names, got {_brief(var_axes)}")
    prov = meta["provenance"]
    if not isinstance(prov, dict):
        raise LutError(f"{path}: header provenance is a JSON {type(prov).__name__}, not an object")
    for key, (ok, what) in PROVENANCE_RULES.items():
        if key in prov and not ok(prov[key]):
            raise LutError(f"{path}: provenance {key} = {_brief(prov[key])}; it must be {what}")
    return meta


def _brief(x: Any) -> str:
    text = " ".join(json.dumps(x, default=str).split()) if not isinstance(x, str) else repr(x)
    return text if len(text) <= 60 else text[:60] + "..."


def _serial_correlation_ok(x: Any) -> bool:
    if not x:
        return True
    ci = x.get("ci95") if isinstance(x, dict) else None
    return (isinstance(x, dict) and _is_number(x.get("lag1")) and isinstance(ci, list) and len(ci) == 2
            and all(_is_number(c) for c in ci))


def _cell_check_ok(x: Any) -> bool:
    return (isinstance(x, dict)
            and ("amplitude_correction" not in x or (_is_number(x["amplitude_correction"])
                                                     and x["amplitude_correction"] > 0))
            and _serial_correlation_ok(x.get("serial_correlation")))


def _fit_ok(x: Any) -> bool:
    rows = x.get("widths") if isinstance(x, dict) else None
    return isinstance(rows, list) and all(
        isinstance(r, dict) and _is_number(r.get("t_pulse_s")) and r.get("method") in ("glm", "fallback")
        and (r["method"] == "fallback" or (_is_number(r.get("deviance")) and type(r.get("dof")) is int
                                           and (r.get("gof_p") is None or _is_number(r.get("gof_p")))))
        for r in rows)


PROVENANCE_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "corner": (lambda x: isinstance(x, str), "a string"),
    "temp_C": (lambda x: _is_number(x) and x > -273.15, "a finite temperature above -273.15 C"),
    "mtj_model": (lambda x: isinstance(x, str), "a string"),
    "model_sha256": (lambda x: x is None or isinstance(x, str), "a string"),
    "trng_cell_sha256": (lambda x: x is None or isinstance(x, str), "a string"),
    "cycle_time_s": (lambda x: _is_number(x) and x > 0, "a finite time > 0 s (the TRNG cell's cycle)"),
    "cell_check": (_cell_check_ok, "an object with amplitude_correction > 0 and serial_correlation "
                                   "{lag1, ci95: [lo, hi]}"),
    "fit": (_fit_ok, "an object whose widths are rows {t_pulse_s, method glm|fallback; glm: deviance, dof, gof_p}"),
}
"""Provenance fields later stages read: their types and ranges (checked where present; the noise emulator
refuses a trng LUT without ``cycle_time_s``)."""

_PROBABILITY_SUFFIXES = ("_rate", "_rate_raw", "_ci_low", "_ci_high", "_fraction")
_COUNT_NAMES = ("trials", "errors")


def _is_probability(name: str, unit: str) -> bool:
    return (unit == "1" and (name.startswith("p_") or name.endswith(_PROBABILITY_SUFFIXES))
            and not _is_count(name, unit))


def _is_count(name: str, unit: str) -> bool:
    return unit == "1" and any(name == c or name.endswith("_" + c) for c in _COUNT_NAMES)


VALUE_RULES: tuple[tuple[str, Callable[[str, str], bool], Callable[[np.ndarray], np.ndarray]], ...] = (
    ("a probability in [0, 1] (unit '1', named p_* or *_rate, *_rate_raw, *_ci_low, *_ci_high, *_fraction; "
     "not a count)",
     _is_probability, lambda a: (a >= 0) & (a <= 1)),
    ("a count: a whole number >= 0 (unit '1', named trials, *_trials or *_errors)",
     _is_count, lambda a: (a >= 0) & (a == np.round(a))),
    ("an energy > 0 J", lambda name, unit: unit == "J", lambda a: a > 0),
    ("a time > 0 s", lambda name, unit: unit == "s", lambda a: a > 0),
    ("a standard deviation >= 0 (named *_std_*)", lambda name, unit: "_std_" in name or name.endswith("_std"),
     lambda a: a >= 0),
)
"""Physical ranges of LUT values (variables and axes), by unit and name: (what, applies(name, unit), ok(values)).
Every value must also be finite."""


UNITS = ("1", "V", "A", "s", "J", "W", "Ohm", "F", "K", "Hz", "m")
"""Units a LUT axis or variable may have ("1": dimensionless). A name ending in ``_<unit>`` must have that unit."""


def check_unit(what: str, name: str, unit: str) -> None:
    if unit not in UNITS:
        raise LutError(f"{what} has unit {unit!r}, not one of {list(UNITS)}")
    suffix = name.rsplit("_", 1)[-1] if "_" in name else ""
    if suffix in UNITS and suffix != unit:
        raise LutError(f"{what} has unit {unit!r}, but its name says {suffix!r}")


def check_values(what: str, name: str, unit: str, arr: np.ndarray) -> None:
    for rule, applies, ok in VALUE_RULES:
        if applies(name, unit):
            bad = ~ok(arr)
            if bad.any():
                at = np.argwhere(bad)[:3].tolist() if arr.ndim else []
                raise LutError(f"{what} must be {rule}; it holds {arr[bad].ravel()[0]:g}"
                               + (f" at {at}" if at else ""))
