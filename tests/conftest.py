"""Shared fixtures: a scratch folder for rendered decks that must include the shipped library."""

from pathlib import Path

import pytest

from compact_models.render import NETLIST_DIR


@pytest.fixture(scope="session")
def lib_path() -> str:
    return str(NETLIST_DIR / "vcma_mtj.lib")


@pytest.fixture(scope="session")
def netlist_dir() -> Path:
    return NETLIST_DIR


@pytest.fixture(params=["va", "behavioural"])
def model(request) -> str:
    """Both forms of the VCMA_MTJ compact model: every physics test runs against each."""
    return request.param
