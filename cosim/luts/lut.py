"""Lookup tables: values on named axes with units, trial counts, confidence intervals and provenance.

File format (schema 1): one ``.npz`` (a zip of ``.npy`` members, no pickles) holding every array
under its name plus ``__meta__``, a JSON string with ``schema``, ``kind``, the axes (name, unit;
values are the arrays ``axis:<name>``), the variables (unit and the axes they span) and the
provenance (model card, corner, temperature, netlist and model sha256, ngspice and package
versions, seeds, trials, date, command line).

Loading trusts nothing it has not checked, and refuses with one :class:`LutError` line naming the
file and the problem: a missing, truncated or corrupted file (CRC and zlib errors included); a zip
whose directory declares more than :data:`MAX_MEMBERS` members, a member over
:data:`MAX_MEMBER_BYTES` or a total over :data:`MAX_TOTAL_BYTES` uncompressed (judged from the
zip directory, before anything is decompressed); duplicated, unknown or missing members; a member
that is not a plain little-endian float64 ``.npy`` (the header: a unicode string) or whose header
declares another size than the member holds (checked before any array is allocated); a header of
the wrong JSON types or without its required fields; another schema or model version; axes that
are not finite and strictly increasing; values outside their physical range (:data:`VALUE_RULES`);
provenance fields of the wrong type or range (:data:`PROVENANCE_RULES`, e.g. a trng LUT's
``cycle_time_s`` must be > 0). Pickles are never loaded, whatever the file says.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from compact_models.card import CardError
from compact_models.card_file import SHIPPED, ProcessCards, card_differences
from compact_models.render import NETLIST_DIR, write_atomic

from cosim.circuit.render_trng import TRNG_FILE
from cosim.circuit.deck import MTJ_MODELS, model_files
from cosim.luts.lut_file import (LUT_KINDS, SCHEMA_VERSION, LutError, check_unit, check_values, parse_meta, read_npz)



LUT_DIR = Path(__file__).parent / "data"
"""The LUTs shipped with the package: ``<kind>_<corner>_<temp>C.lut.npz``."""


def lut_file_name(kind: str, corner: str = "tt", temp_C: float = 27.0) -> str:
    """The file name of a LUT of ``kind`` for a corner and temperature: ``<kind>_<corner>_<temp>C.lut.npz``."""
    return f"{kind}_{corner}_{temp_C:g}C.lut.npz"


def shipped_lut_path(kind: str, corner: str = "tt", temp_C: float = 27.0) -> Path:
    """The shipped LUT of ``kind`` for a corner and temperature, or an error listing what ships."""
    path = LUT_DIR / lut_file_name(kind, corner, temp_C)
    if not path.is_file():
        have = sorted(p.name for p in LUT_DIR.glob(f"{kind}_*.lut.npz"))
        raise LutError(f"no shipped {kind} LUT for corner {corner!r} at {temp_C:g} C (looked for {path.name}); "
                       f"shipped: {have}; build one with `vcma lut build --kind {kind}`")
    return path


def model_sha256(model: str) -> str:
    """Hash of the files that define the compact model ``model`` ("va": wrapper library and Verilog-A
    source; "behavioural": its library): a LUT made with another model is refused."""
    digest = hashlib.sha256()
    for path in model_files(model):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def lut_model(lut: "Lut") -> str:
    """The VCMA_MTJ form a LUT was built with (LUTs from before the Verilog-A model: behavioural)."""
    return str(lut.provenance.get("mtj_model", "behavioural"))


CARD_SECTIONS = {"trng": ("mtj", "cmos", "trng_cell"), "read": ("mtj", "cmos", "crossbar"),
                 "write": ("mtj", "cmos", "crossbar")}
"""The process-card sections each LUT kind depends on (what :func:`check_lut_cards` compares)."""


def card_provenance(cards: ProcessCards | None) -> dict:
    """The provenance entries a LUT built with ``cards`` (None: the shipped cards) carries: ``cards`` (every
    section, the MTJ and CMOS cards typical, MTJ at 300 K), ``cards_sha256`` and ``card_file``."""
    cards = SHIPPED if cards is None else cards
    return {"cards": cards.as_dict(), "cards_sha256": cards.fingerprint(), "card_file": cards.source}


def lut_cards(lut: "Lut") -> ProcessCards:
    """The process cards a LUT was built with (a LUT from before card files: the shipped cards)."""
    cards = lut.provenance.get("cards")
    if cards is None:
        return SHIPPED
    try:
        if not isinstance(cards, dict) or not all(isinstance(v, dict) for v in cards.values()):
            raise CardError("it must be an object of card sections")
        return ProcessCards.from_dict(cards, source=str(lut.provenance.get("card_file", "LUT provenance")))
    except (CardError, TypeError) as err:
        raise LutError(f"provenance cards cannot be read: {err}") from None


def card_params(cards: ProcessCards | None) -> dict[str, dict[str, float]]:
    """What a LUT build passes to its SPICE runs for ``cards`` (None: the shipped cards; each part holds only the
    fields that differ from the shipped cards, so a build with the shipped cards keeps its cache keys): ``deck``
    (MTJ and CMOS fields, every deck; not the MTJ's ``dt_thermal_s``: sweeps set their own thermal step),
    ``cell`` (TRNG-cell ``.param`` names, ``trng_cell.cir`` runs), ``crossbar`` (crossbar-card fields)."""
    cards = SHIPPED if cards is None else cards
    deck = {k: v for k, v in cards.deck_params().items() if k != "dt_thermal_s"}
    return {"deck": deck, "cell": cards.cell_params(), "crossbar": cards.crossbar_params()}


def card_point(params: dict[str, float]) -> dict:
    """``{"params": params}`` to add to a sweep point, or nothing for the shipped cards: the card values are part
    of the point, so of its cache key (``cosim.circuit.sweep.point_key``), and shipped-card builds keep theirs."""
    return {"params": dict(params)} if params else {}


def lut_card_params(lut: "Lut") -> dict[str, dict[str, float]]:
    """:func:`card_params` of the cards ``lut`` was built with: what rebuilding or validating it passes to SPICE."""
    return card_params(lut_cards(lut))


def check_lut_cards(lut: "Lut", requested: ProcessCards, where: str = "LUT") -> None:
    """Refuse a LUT built with other process cards than ``requested``, naming every
    differing field with both values (the sections its kind depends on, :data:`CARD_SECTIONS`)."""
    have = lut_cards(lut)
    diff = card_differences(have.as_dict(), requested.as_dict(), CARD_SECTIONS.get(lut.kind))
    if diff:
        shown = "; ".join(f"[{s}] {n}: LUT {_num(a)}, requested {_num(b)}" for s, n, a, b in diff[:6])
        more = f"; and {len(diff) - 6} more" if len(diff) > 6 else ""
        raise LutError(f"{where}: built with other process cards ({have.source}) than requested "
                       f"({requested.source}): {shown}{more}; rebuild it with `vcma lut build --card FILE`")


def _num(x) -> str:
    return "(none)" if x is None else f"{x:.10g}"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def trng_cell_sha256() -> str:
    """Hash of what defines the TRNG cell: ``netlists/trng_cell.cir`` and the TRNG-cell card it includes
    (``netlists/cards/trng_cell_card.inc``), so a change of either makes a trng LUT's cell parts stale."""
    from compact_models.render import TRNG_CELL_CARD_FILE

    digest = hashlib.sha256()
    for path in (NETLIST_DIR / TRNG_FILE, NETLIST_DIR / TRNG_CELL_CARD_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class Lut:
    """Values on a rectilinear grid. ``variables[name] = (unit, axes, array)``."""

    kind: str
    axes: dict[str, tuple[str, np.ndarray]]
    variables: dict[str, tuple[str, tuple[str, ...], np.ndarray]]
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in LUT_KINDS:
            raise LutError(f"unknown LUT kind '{self.kind}'; known: {list(LUT_KINDS)}")
        for name, (unit, values) in self.axes.items():
            check_unit(f"axis '{name}'", name, unit)
            values = np.asarray(values, dtype=float)
            if values.ndim != 1 or len(values) < 2 or not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
                raise LutError(f"axis '{name}' must be finite and strictly increasing with >= 2 points")
            check_values(f"axis '{name}'", name, unit, values)
            self.axes[name] = (unit, values)
        for var, (unit, var_axes, arr) in self.variables.items():
            check_unit(f"variable '{var}'", var, unit)
            arr = np.asarray(arr, dtype=float)
            unknown = [a for a in var_axes if a not in self.axes]
            if unknown:
                raise LutError(f"variable '{var}' spans unknown axes {unknown}")
            if len(set(var_axes)) != len(var_axes):
                raise LutError(f"variable '{var}' spans an axis twice: {list(var_axes)}")
            shape = tuple(len(self.axes[a][1]) for a in var_axes)
            if arr.shape != shape:
                raise LutError(f"variable '{var}' has shape {arr.shape}, its axes {var_axes} need {shape}")
            if np.isnan(arr).any():
                raise LutError(f"variable '{var}' holds NaN at {np.argwhere(np.isnan(arr))[:3].tolist()}")
            if not np.isfinite(arr).all():
                raise LutError(f"variable '{var}' holds an infinity at {np.argwhere(~np.isfinite(arr))[:3].tolist()}")
            check_values(f"variable '{var}'", var, unit, arr)
            self.variables[var] = (unit, tuple(var_axes), arr)

    # Queries ------------------------------------------------------------------
    def axis(self, name: str) -> np.ndarray:
        if name not in self.axes:
            raise LutError(f"LUT has no axis '{name}'; axes: {list(self.axes)}")
        return self.axes[name][1]

    def interp(self, var: str, **coords) -> np.ndarray:
        """Multilinear interpolation of ``var``; coordinates outside the grid are refused."""
        if var not in self.variables:
            raise LutError(f"LUT has no variable '{var}'; variables: {list(self.variables)}")
        _, var_axes, arr = self.variables[var]
        missing = [a for a in var_axes if a not in coords]
        if missing:
            raise LutError(f"'{var}' needs coordinates {list(var_axes)}; missing {missing}")
        grid = [self.axes[a][1] for a in var_axes]
        pts = np.broadcast_arrays(*[np.asarray(coords[a], dtype=float) for a in var_axes])
        for a, g, p in zip(var_axes, grid, pts):
            if np.any(p < g[0]) or np.any(p > g[-1]):
                raise LutError(f"{a} = {p.min():g}..{p.max():g} is outside the LUT range "
                               f"[{g[0]:g}, {g[-1]:g}] {self.axes[a][0]}; extrapolation is refused")
        f = RegularGridInterpolator(grid, arr, method="linear")
        return f(np.stack([p.ravel() for p in pts], axis=-1)).reshape(pts[0].shape)

    # Files ----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        meta = {"schema": SCHEMA_VERSION, "kind": self.kind,
                "axes": {n: u for n, (u, _) in self.axes.items()},
                "variables": {n: {"unit": u, "axes": list(a)} for n, (u, a, _) in self.variables.items()},
                "provenance": self.provenance}
        arrays = {f"axis:{n}": v for n, (_, v) in self.axes.items()}
        arrays.update({f"var:{n}": arr for n, (_, _, arr) in self.variables.items()})
        buf = io.BytesIO()
        np.savez_compressed(buf, __meta__=np.array(json.dumps(meta, default=_jsonable)), **arrays)
        write_atomic(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path, kind: str | None = None, check_model: bool = True,
             cards: ProcessCards | None = None) -> "Lut":
        """Read and check a LUT file. ``cards``: the process cards the caller needs (``card_file.SHIPPED`` for
        the shipped ones; None: not checked); a LUT built with other cards is refused naming the fields."""
        path = Path(path)
        if not path.is_file():
            raise LutError(f"LUT file not found: {path}")
        arrays = read_npz(path)
        meta = parse_meta(path, arrays.pop("__meta__"))
        if kind is not None and meta["kind"] != kind:
            raise LutError(f"{path}: a '{meta['kind']}' LUT where a '{kind}' LUT is needed")
        prov = meta["provenance"]
        model = str(prov.get("mtj_model", "behavioural"))
        if check_model and model not in MTJ_MODELS:
            raise LutError(f"{path}: unknown VCMA-MTJ model {model!r} in its provenance; known: {list(MTJ_MODELS)}")
        if check_model and prov.get("model_sha256") not in (None, model_sha256(model)):
            raise LutError(f"{path}: built with another {model} compact model (sha256 {prov.get('model_sha256', '')[:12]}"
                           f"..., current {model_sha256(model)[:12]}...); rebuild it with `vcma lut build`")
        cell = NETLIST_DIR / TRNG_FILE
        if check_model and prov.get("trng_cell_sha256") not in (None, trng_cell_sha256()):
            raise LutError(f"{path}: its energy, driver share and cell check come from another {cell.name}; "
                           f"rerun them with `vcma lut cell {path}`")
        declared = {f"axis:{n}" for n in meta["axes"]} | {f"var:{n}" for n in meta["variables"]}
        missing = sorted(declared - set(arrays))
        if missing:
            raise LutError(f"{path}: LUT is missing array {missing[0]!r} that its header declares")
        extra = sorted(set(arrays) - declared)
        if extra:
            raise LutError(f"{path}: member {extra[0]!r} is not declared in its header")
        axes = {n: (u, arrays[f"axis:{n}"]) for n, u in meta["axes"].items()}
        variables = {n: (v["unit"], tuple(v["axes"]), arrays[f"var:{n}"]) for n, v in meta["variables"].items()}
        try:
            lut = cls(meta["kind"], axes, variables, prov)
            if cards is not None:
                check_lut_cards(lut, cards, str(path))
            return lut
        except LutError as err:
            raise LutError(err if str(err).startswith(f"{path}:") else f"{path}: {err}") from None


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON-serialisable: {type(x)}")
