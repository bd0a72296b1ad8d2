"""The data flow as an import rule (docs/design.md): each cosim stage imports only the stages below
it; compact_models imports no stage; diffusion imports nothing from cosim (it defines the
noise-source protocol its sampler needs, and cosim.noise implements it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["compact_models", "cosim.circuit", "cosim.luts", "cosim.noise", "cosim.app"]


def layer(module: str) -> str | None:
    """The layer a dotted module name belongs to (None for third-party and the standard library)."""
    for name in ("cosim.circuit", "cosim.luts", "cosim.noise", "cosim.app", "compact_models", "diffusion"):
        if module == name or module.startswith(name + "."):
            return name
    return "cosim" if module.split(".")[0] == "cosim" else None


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, at any depth (function-level imports count too)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return found


def sources(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def test_layer_names_resolve():
    assert layer("cosim.luts.lut") == "cosim.luts" and layer("cosim.app.cli") == "cosim.app"
    assert layer("numpy") is None and layer("cosim") == "cosim"


@pytest.mark.parametrize("path", sources("compact_models", "cosim", "diffusion"), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_from_a_higher_stage(path):
    own = layer(".".join(path.relative_to(ROOT).with_suffix("").parts))
    bad = []
    for line, module in imports(path):
        target = layer(module)
        if target is None or target == own or own == "cosim":
            continue
        if own == "diffusion" or target in ("diffusion", "cosim") and own != "cosim.app":
            bad.append((line, module))
        elif target in ORDER and own in ORDER and ORDER.index(target) > ORDER.index(own):
            bad.append((line, module))
    assert not bad, f"{path.relative_to(ROOT)} imports from a higher stage: {bad}"


def test_the_rule_catches_an_upward_import(tmp_path, monkeypatch):
    fake = ROOT / "cosim" / "luts" / "_layering_probe.py"
    fake.write_text("from cosim.noise.emulator import TrngArrayEmulator\n")
    try:
        with pytest.raises(AssertionError, match="higher stage"):
            test_no_import_from_a_higher_stage(fake)
    finally:
        fake.unlink()
