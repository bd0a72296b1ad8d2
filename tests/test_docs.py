"""Docstrings and comments that name a file of this repository name one that exists.

A path like ``docs/physics.md``, ``netlists/trng_cell.cir`` or ``cosim/luts/lut.py`` written in a
docstring or comment under compact_models/, cosim/, diffusion/ or netlists/ must be a file (or, with a
trailing slash, a folder) of the repository, so moved or deleted files leave no dead references.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("compact_models", "cosim", "diffusion", "netlists")
TOP = r"(?:docs|netlists|cosim|compact_models|diffusion|tests|benchmarks)"
PATH = re.compile(rf"(?<![\w/.-]){TOP}/(?:[\w.-]+/)*(?:[\w-]+\.(?:md|py|cir|lib|inc|va|toml)|[\w.-]+/)(?![\w<*{{])")
"""A repository path: a file with a source or document suffix, or a folder written with a trailing slash."""


def _commentary(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the docstrings and comments of a Python file, or every line of another file."""
    text = path.read_text()
    if path.suffix != ".py":
        return list(enumerate(text.splitlines(), 1))
    out = [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(io.StringIO(text).readline)
           if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            out.append((node.lineno, node.value.value))
    return out


def _files() -> list[Path]:
    suffixes = {".py", ".cir", ".lib", ".inc", ".va"}
    return sorted(p for d in SCANNED for p in (ROOT / d).rglob("*")
                  if p.suffix in suffixes and p.is_file() and "__pycache__" not in p.parts)


def dead_references() -> list[str]:
    dead = []
    for path in _files():
        for line, text in _commentary(path):
            for ref in PATH.findall(text):
                if not (ROOT / ref).exists():
                    dead.append(f"{path.relative_to(ROOT)}:{line}: {ref}")
    return dead


def test_the_scan_finds_references():
    refs = [ref for path in _files() for _, text in _commentary(path) for ref in PATH.findall(text)]
    assert "docs/physics.md" in refs and "netlists/trng_cell.cir" in refs


@pytest.mark.parametrize("text,found", [("see docs/physics.md.", ["docs/physics.md"]),
                                        ("(netlists/cards/trng_cell_card.inc)", ["netlists/cards/trng_cell_card.inc"]),
                                        ("cosim.circuit.deck and cosim/app/ here", ["cosim/app/"]),
                                        ("``trng_<corner>_<T>C.lut.npz``", []),
                                        ("../compact_models/va/vcma_mtj.osdi", [])])
def test_path_pattern(text, found):
    assert PATH.findall(text) == found


def test_docstrings_and_comments_name_existing_files():
    dead = dead_references()
    assert not dead, "docstrings/comments name files that do not exist:\n" + "\n".join(dead)
