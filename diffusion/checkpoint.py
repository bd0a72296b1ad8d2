"""Atomic, versioned checkpoint files with clear errors.

A training run killed half way must leave either the previous checkpoint or the
new one, never a torn file: we write to a temporary file in the same folder and
``os.replace`` it over the target. Loading checks the file exists, unpickles,
and checks the format name, format version and required keys, so a stale or
foreign checkpoint is refused with a message naming the file and the problem
instead of failing deep inside ``load_state_dict``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

import torch


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, or does not match what was asked for."""


def save_atomic(obj: dict, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temp file beside ``path``, fsync, then ``os.replace`` onto it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; checkpoints are shared artefacts
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checked(
    path: str | os.PathLike, fmt: str, version: int, required_keys: Iterable[str]
) -> dict:
    """Load a checkpoint and check its ``format``, ``format_version`` and keys.

    Raises ``FileNotFoundError`` for a missing file and ``CheckpointError`` for
    anything else that is wrong; both messages name the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path}: file not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt / not a torch file / unsafe pickle
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]  # torch's messages run to many lines
        raise CheckpointError(f"checkpoint {path}: cannot be read as a torch checkpoint ({first})") from exc
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"checkpoint {path}: expected a dict, found {type(ckpt).__name__}")
    found_fmt = ckpt.get("format")
    if found_fmt != fmt:
        raise CheckpointError(f"checkpoint {path}: format is {found_fmt!r}, expected {fmt!r}")
    found_ver = ckpt.get("format_version")
    if found_ver != version:
        raise CheckpointError(
            f"checkpoint {path}: format_version is {found_ver!r}, this code reads version {version}; "
            "regenerate it with the command in diffusion/checkpoints/README.md"
        )
    missing = [k for k in required_keys if k not in ckpt]
    if missing:
        raise CheckpointError(f"checkpoint {path}: missing keys {missing}")
    return ckpt


def load_state_checked(module: torch.nn.Module, state: dict, path: str | os.PathLike, what: str) -> None:
    """``load_state_dict(strict=True)``, re-raised as ``CheckpointError`` naming the file."""
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(f"checkpoint {path}: {what} weights do not match the network ({exc})") from exc
