"""Turn a netlist file into one self-contained deck: includes inlined, card and corner chosen,
parameters overridden, seed and temperature set. The only place decks are rewritten."""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Literal, Mapping, get_args

from compact_models import CardError, MtjCard, mtj_card
from compact_models import osdi
from compact_models.card import SPICE_SCALE
from compact_models.cmos import CmosCard, check_corner, render_cmos_lib
from compact_models.limits import check_temperature_C
from compact_models.render import CMOS_LIB_FILE, DEFAULT_TEMP_C, MTJ_CARD_FILE, NETLIST_DIR, render_mtj_card


class NetlistError(ValueError):
    """A netlist or its inputs cannot be turned into a deck (names the file, line or parameter)."""


MtjModel = Literal["va", "behavioural"]
MTJ_MODELS: tuple[str, ...] = get_args(MtjModel)
MTJ_LIBS = {"va": "vcma_mtj_va.lib", "behavioural": "vcma_mtj.lib"}
"""The library each form of the VCMA_MTJ subcircuit lives in; a netlist including either gets the chosen one."""
OSDI_MARK = "*vcma-osdi "
"""Deck comment naming a compiled module the runner must load before the circuit (decks carry no .control)."""


@functools.cache
def default_model() -> str:
    """The compiled Verilog-A model where ngspice can load it, else the behavioural one (said once)."""
    if osdi.ngspice_has_osdi():
        return "va"
    print(f"vcma: ngspice {osdi.ngspice_version() or '(not found)'} cannot load compiled Verilog-A (OSDI, ngspice >= "
          f"{osdi.MIN_NGSPICE_OSDI}); running the behavioural VCMA-MTJ model", file=sys.stderr)
    return "behavioural"


def resolve_model(model: str | None) -> str:
    """``model`` checked (None: :func:`default_model`); "va" needs an ngspice with OSDI."""
    if model is None:
        return default_model()
    if model not in MTJ_MODELS:
        raise NetlistError(f"unknown VCMA-MTJ model {model!r}; available: {list(MTJ_MODELS)}")
    if model == "va" and default_model() != "va":
        raise NetlistError("the Verilog-A model needs an ngspice that loads OSDI (>= 42; on Debian bookworm from "
                           "bookworm-backports, see .ci/setup); use --model behavioural")
    return model


def model_files(model: str) -> list[Path]:
    """The files that define ``model`` (what a LUT's model hash covers)."""
    files = [NETLIST_DIR / MTJ_LIBS[model]]
    return files + [osdi.VA_SOURCE] if model == "va" else files


_INCLUDE = re.compile(r"^\s*\.(include|inc|lib)\s+(\"[^\"]+\"|\S+)(?:\s+(\S+))?\s*$", re.IGNORECASE)
_PARAM_LINE = re.compile(r"^\s*\.param\s", re.IGNORECASE)
_PARAM_ASSIGN = re.compile(r"(\w+)\s*=\s*(\{[^}]*\}|[^\s{}]+)")
_SPICE_TO_FIELD = {f: f for f in MtjCard.field_names()}
_SPICE_TO_FIELD.update({MtjCard.__dataclass_fields__[f].metadata["spice"]: f for f in MtjCard.field_names()})
_CMOS_FIELDS = frozenset(CmosCard.field_names())
"""CMOS-card fields a deck's ``params`` may override by name (a process card file's [cmos] section): the
shipped library is then rendered from the changed card (corner shifts applied to it)."""


def mtj_card_for(corner: str, temp_C: float, params: Mapping[str, float] | None = None) -> MtjCard:
    """The VCMA-MTJ card a deck built with these arguments uses (card fields in ``params``, by field or
    SPICE name, override the corner's values; other parameters are ignored)."""
    overrides = {_SPICE_TO_FIELD[k]: float(v) for k, v in (params or {}).items() if k in _SPICE_TO_FIELD}
    return mtj_card(corner, temp_C + 273.15, **overrides)


def cmos_card_for(params: Mapping[str, float] | None = None) -> CmosCard:
    """The typical CMOS card a deck built with ``params`` renders (CMOS-card fields in ``params`` override the
    shipped card's; other parameters are ignored)."""
    return CmosCard().replace(**{k: float(v) for k, v in (params or {}).items() if k in _CMOS_FIELDS})


def build_deck(netlist: str | Path, params: Mapping[str, float] | None = None, seed: int | None = None,
               corner: str = "tt", temp_C: float = DEFAULT_TEMP_C, model_lib: str | Path | None = None,
               model_corner: str | None = None, model: str | None = None) -> str:
    """The deck ngspice runs for ``netlist`` with the given parameters, seed, corner and temperature.

    ``params`` may name VCMA-MTJ card fields (``alpha``, ``diameter_m``) or their SPICE names
    (``mtj_alpha``), which are validated by the card, CMOS-card fields (``vth0_n_V``: the shipped CMOS
    library is rendered from the changed card), or any top-level ``.param`` of the netlist.
    ``model_lib``/``model_corner`` replace the shipped CMOS card with a user's PDK library.
    ``model`` picks the VCMA_MTJ form ("va": compiled Verilog-A, built on first use; "behavioural":
    B-sources; None: :func:`default_model`) whichever of the two libraries the netlist includes.
    """
    model = resolve_model(model)
    path = Path(netlist)
    if not path.is_file():
        raise NetlistError(f"netlist not found: {path}" if not path.exists() else f"{path}: not a regular file")
    check_temperature_C(temp_C)
    params = dict(params or {})
    card_overrides = {_SPICE_TO_FIELD[k]: float(v) for k, v in params.items() if k in _SPICE_TO_FIELD}
    try:
        card = mtj_card(corner, temp_C + 273.15, **card_overrides)
    except CardError as err:
        raise NetlistError(f"{path}: {err}") from None
    card_text = render_mtj_card(card, temp_C + 273.15, f"VCMA-MTJ card: corner {corner}, {temp_C:g} C")
    cmos_text = _cmos_text(path, {k: v for k, v in params.items() if k in _CMOS_FIELDS}, model_lib)
    cmos_corner = check_corner(corner) if model_lib is None else model_corner
    if model_lib is not None:
        model_lib = Path(model_lib)
        if not model_lib.is_file():
            raise NetlistError(f"PDK model library not found: {model_lib}")
        if not model_corner:
            raise NetlistError(f"a corner (section name) is needed for the PDK library {model_lib}")

    lines = _flatten(path, card_text, cmos_corner, model_lib, seen=(), model=model, cmos_text=cmos_text)
    lines = _strip_control(lines)
    other = {k: v for k, v in params.items() if k not in _SPICE_TO_FIELD and k not in _CMOS_FIELDS}
    lines = _override_params(lines, other, path)
    lines = [ln for ln in lines if not re.match(r"^\s*\.(end|temp|options\s+seed)\b", ln, re.IGNORECASE)]
    if not any(ln.strip() for ln in lines):
        raise NetlistError(f"{path}: the netlist is empty")
    title, body = lines[0], lines[1:]
    head = [title, f".temp {temp_C:g}"]
    if model == "va" and any(re.match(r"^\s*\.subckt\s+vcma_mtj\s", ln, re.I) for ln in body):
        try:
            head.append(OSDI_MARK + str(osdi.compile_model()))
        except CardError as err:
            raise NetlistError(str(err)) from None
    if seed is not None:
        if not (isinstance(seed, int) and 0 < seed < 2**31):
            raise NetlistError(f"seed must be an integer in [1, 2^31), got {seed!r}")
        head.append(f".options seed={seed}")
        body = [SEED_PARAM.sub(rf"\g<1>{seed}", ln) for ln in body]
    if model == "va":
        check_streams(body, path)
    return "\n".join(head + body + [".end"]) + "\n"


SEED_PARAM = re.compile(r"^(\s*\.param\s+mtj_seed\s*=\s*)\S+", re.IGNORECASE)
"""The VA library's seed of the thermal field (``.param mtj_seed=1``), set to the run's seed."""
_MTJ_INSTANCE = re.compile(r"^\s*x\S*\s+\S+\s+\S+\s+vcma_mtj(\s|$)", re.IGNORECASE)


def check_streams(lines: list[str], path: Path) -> None:
    """Refuse two noisy VCMA_MTJ instances with the same ``nid``: they would draw the same thermal field."""
    seen: dict[str, str] = {}
    for ln in lines:
        if not _MTJ_INSTANCE.match(ln) or re.search(r"\bnoise\s*=\s*0(\s|$)", ln):
            continue
        nid = (re.search(r"\bnid\s*=\s*(\S+)", ln, re.IGNORECASE) or [None, "1"])[1]
        name = ln.split()[0]
        if nid in seen:
            raise NetlistError(f"{path}: VCMA_MTJ instances {seen[nid]} and {name} share nid={nid}, so they would "
                               "draw the same thermal field; give every MTJ of the circuit its own nid=")
        seen[nid] = name


def _cmos_text(path: Path, overrides: Mapping[str, float], model_lib) -> str | None:
    """The CMOS library rendered from the shipped card with ``overrides`` (None: none, use the file)."""
    if not overrides:
        return None
    if model_lib is not None:
        raise NetlistError(f"CMOS card fields {sorted(overrides)} cannot change a PDK library ({model_lib}); "
                           "leave them out or drop --model-lib")
    try:
        return render_cmos_lib(CmosCard().replace(**{k: float(v) for k, v in overrides.items()}))
    except CardError as err:
        raise NetlistError(f"{path}: {err}") from None


def _flatten(path: Path, card_text: str, cmos_corner: str | None, model_lib: Path | None,
             seen: tuple[Path, ...], section: str | None = None, model: str = "va",
             cmos_text: str | None = None) -> list[str]:
    """Lines of ``path`` with every include inlined (relative to the including file)."""
    path = path.resolve()
    if path in seen:
        raise NetlistError(f"include loop: {' -> '.join(map(str, seen + (path,)))}")
    if path == (NETLIST_DIR / MTJ_CARD_FILE).resolve():
        return card_text.splitlines()
    is_cmos = cmos_text is not None and path == (NETLIST_DIR / CMOS_LIB_FILE).resolve()
    text = _join_continuations((cmos_text if is_cmos else path.read_text()).splitlines())
    if section is not None:
        text = _lib_section(text, section, path)
    out: list[str] = []
    for number, line in enumerate(text, 1):
        m = _INCLUDE.match(line)
        if not m or (m.group(1).lower() == "lib" and m.group(3) is None):
            out.append(line)
            continue
        target = (path.parent / m.group(2).strip('"')).resolve()
        if target in [(NETLIST_DIR / lib).resolve() for lib in MTJ_LIBS.values()]:
            target = (NETLIST_DIR / MTJ_LIBS[model]).resolve()
        sect = m.group(3)
        if target == (NETLIST_DIR / CMOS_LIB_FILE).resolve():
            if model_lib is not None:
                out.append(f".lib {model_lib.resolve()} {cmos_corner}")
                continue
            sect = cmos_corner
        if not target.is_file():
            raise NetlistError(f"{path}:{number}: included file not found: {target}")
        out.extend(_flatten(target, card_text, cmos_corner, model_lib, seen + (path,), sect, model, cmos_text))
    return out


def _join_continuations(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line.startswith("+") and out:
            out[-1] += " " + line[1:]
        else:
            out.append(line)
    return out


def _lib_section(lines: list[str], section: str, path: Path) -> list[str]:
    start = [i for i, ln in enumerate(lines) if re.match(rf"^\s*\.lib\s+{re.escape(section)}\s*$", ln, re.I)]
    if not start:
        sections = [ln.split()[1] for ln in lines if re.match(r"^\s*\.lib\s+\S+\s*$", ln, re.I)]
        raise NetlistError(f"{path}: corner/section '{section}' is not defined; known: {sections}")
    body = []
    for ln in lines[start[0] + 1:]:
        if re.match(r"^\s*\.endl\b", ln, re.I):
            break
        body.append(ln)
    return body


def _strip_control(lines: list[str]) -> list[str]:
    out, inside = [], False
    for ln in lines:
        low = ln.strip().lower()
        if low.startswith(".control"):
            inside = True
        elif low.startswith(".endc"):
            inside = False
        elif not inside:
            out.append(ln)
    return out


def top_level_params(lines: list[str]) -> dict[str, str]:
    """``.param`` names defined outside subcircuits, with their text values."""
    found, depth = {}, 0
    for ln in lines:
        low = ln.strip().lower()
        depth += low.startswith(".subckt") - low.startswith(".ends")
        if depth == 0 and _PARAM_LINE.match(ln):
            found.update({k: v for k, v in _PARAM_ASSIGN.findall(ln.split("$")[0])})
    return found


def _override_params(lines: list[str], params: Mapping[str, float], path: Path) -> list[str]:
    known = top_level_params(lines)
    unknown = sorted(set(params) - set(known))
    if unknown:
        allowed = sorted(set(known) | set(_SPICE_TO_FIELD) | _CMOS_FIELDS)
        raise NetlistError(f"{path}: unknown parameter(s) {unknown}; this netlist knows {allowed}")
    out, depth = [], 0
    for ln in lines:
        low = ln.strip().lower()
        depth += low.startswith(".subckt") - low.startswith(".ends")
        if depth == 0 and _PARAM_LINE.match(ln):
            code, _, comment = ln.partition("$")
            code = _PARAM_ASSIGN.sub(
                lambda m: f"{m.group(1)}={float(params[m.group(1)]):.10g}" if m.group(1) in params else m.group(0),
                code)
            ln = code + (f"${comment}" if comment else "")
        out.append(ln)
    return out


# Transient size ---------------------------------------------------------------------------------------------------

MAX_TRAN_POINTS = 5e7
"""Most time points a transient may need before it is refused unrun (``VCMA_SPICE_MAX_POINTS`` overrides). The
shipped decks need 1e3 to 2e5 (a 16-cycle TRNG cell at the 1 ps thermal step); 5e7 points of a few dozen vectors
are gigabytes and hours."""

_TRAN = re.compile(r"^\s*\.tran\s+(.*)$", re.IGNORECASE)
_SPICE_NUMBER = re.compile(r"(?<![\w.])((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|mil|[tgkmunpfa])?[a-z]*(?![\w.])",
                           re.IGNORECASE)


def positive_env(name: str, default: float, what: str, error: type[Exception], finite: bool = False) -> float:
    """A number > 0 from environment variable ``name`` (``default`` when unset); else ``error`` naming it."""
    import os

    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (0 < number < float("inf") if finite else number > 0):
        raise error(f"{name} must be {what}, got {value!r}")
    return number


def max_tran_points() -> float:
    return positive_env("VCMA_SPICE_MAX_POINTS", MAX_TRAN_POINTS, "a positive number", NetlistError)


def _spice_value(text: str, params: dict[str, str], depth: int = 0) -> float | None:
    """The number a ``.tran`` field or ``.param`` value stands for (SPICE suffixes, ``{expr}`` over top-level
    parameters with + - * / and parentheses); None where it cannot be worked out here."""
    import ast

    if depth > 20:
        return None
    expr = text.strip().strip("{}'\"").strip()
    expr = _SPICE_NUMBER.sub(lambda m: repr(float(m.group(1)) * SPICE_SCALE.get((m.group(2) or "").lower(), 1.0)), expr)
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None

    def ev(node) -> float | None:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            raw = params.get(node.id.lower())
            return None if raw is None else _spice_value(raw, params, depth + 1)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = ev(node.operand)
            return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            a, b = ev(node.left), ev(node.right)
            if a is None or b is None or (isinstance(node.op, ast.Div) and b == 0):
                return None
            return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op), a / b if b else None)
        return None

    return ev(tree)


def tran_points(deck: str) -> tuple[str, float] | None:
    """The ``.tran`` line of a deck and the fewest time points ngspice will take for it: (tstop - tstart) over
    the largest step (tmax when given, else min(tstep, (tstop - tstart) / 50), as ngspice sets it); None for a
    deck without a transient or with values not worked out here."""
    lines = deck.splitlines()
    for line in lines:
        m = _TRAN.match(line)
        if not m:
            continue
        params = {k.lower(): v for k, v in top_level_params(lines).items()}
        fields = [f for f in re.findall(r"\{[^}]*\}+|\S+", m.group(1)) if f.lower() != "uic"]
        values = [_spice_value(f, params) for f in fields[:4]]
        if len(values) < 2 or values[0] is None or values[1] is None:
            return None
        tstep, tstop = values[0], values[1]
        tstart = values[2] if len(values) > 2 and values[2] is not None else 0.0
        span = tstop - tstart
        if len(values) > 3 and values[3] is not None and values[3] > 0:
            step = values[3]
        else:
            step = min(tstep, span / 50) if tstep > 0 else span / 50
        if span <= 0 or step <= 0:
            return line.strip(), float("inf")
        return line.strip(), span / step
    return None


def check_tran_size(deck: str) -> None:
    """Refuse, before running, a transient that needs more than :func:`max_tran_points` time points."""
    found = tran_points(deck)
    if found is None:
        return
    line, points = found
    limit = max_tran_points()
    if points > limit:
        raise NetlistError(f"transient '{line}' needs at least {points:.3g} time points (stop - start over the "
                           f"largest step), over the limit of {limit:.3g} (VCMA_SPICE_MAX_POINTS); use a longer step "
                           "or a shorter stop time")
