"""Helpers shared by the ``vcma`` command groups: SPICE-style numbers, ``--param`` lists, common options."""

from __future__ import annotations

import argparse
import math
from pathlib import Path


def parse_params(items: list[str]) -> dict[str, float]:
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--param expects NAME=VALUE, got '{item}'")
        try:
            params[key.strip()] = float(si(value.strip()))
        except ValueError:
            raise ValueError(f"--param {key}: '{value}' is not a number") from None
        if not key.strip():
            raise ValueError(f"--param expects NAME=VALUE, got '{item}' (no name)")
        if not math.isfinite(params[key.strip()]):
            raise ValueError(f"--param {key}: '{value}' is not a finite number")
    return params


def si(text: str) -> float:
    """A number with an optional SPICE suffix (``0.5n``, ``40k``)."""
    low = text.lower()
    from compact_models.card import SPICE_SCALE

    for suffix in sorted(SPICE_SCALE, key=len, reverse=True):
        if low.endswith(suffix) and low[: -len(suffix)]:
            try:
                return float(low[: -len(suffix)]) * SPICE_SCALE[suffix]
            except ValueError:
                break
    return float(text)


def common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=1, help="ngspice random seed (default 1)")
    p.add_argument("--corner", default="tt", help="process corner: tt, ff, ss (default tt)")
    p.add_argument("--temp", type=float, default=27.0, help="temperature in C (default 27)")
    p.add_argument("--backend", default="shared", choices=["shared", "subprocess"])
    model_option(p)
    card_option(p)


def check_common(args) -> None:
    """The options of :func:`common_options`: seed 1 .. 2^31-1, a known corner, -55 .. 150 C."""
    from cosim.app import checks

    checks.seed("--seed", args.seed)
    checks.corner("--corner", args.corner)
    checks.temperature("--temp", args.temp)
    load_cards(args)


def card_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--card", type=Path, metavar="FILE",
                   help="process card file (TOML with [mtj], [cmos], [trng_cell], [crossbar] sections, each "
                        "'base = \"tt\"' plus fields by name; see compact_models/card_file.py); --corner and --temp "
                        "apply on top of it")


def load_cards(args):
    """``args.cards``: the process cards of ``--card`` (None without it), checked before anything runs."""
    from compact_models.card_file import load_card_file

    path = getattr(args, "card", None)
    args.cards = None if path is None else load_card_file(path)
    return args.cards


def card_params(args, *parts: str) -> dict[str, float]:
    """The ``params`` ``--card`` gives a run: MTJ and CMOS fields, plus ``"cell"`` (TRNG-cell .params) and/or
    ``"crossbar"`` (crossbar-card fields) when asked; {} without ``--card``. ``--param`` values go on top."""
    cards = getattr(args, "cards", None)
    if cards is None:
        return {}
    out = cards.deck_params()
    for part in parts:
        out.update(cards.cell_params() if part == "cell" else cards.crossbar_params())
    return out


def model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=["va", "behavioural"], default=None,
                   help="VCMA-MTJ model: va (compiled Verilog-A; the default where ngspice loads OSDI) or behavioural")
