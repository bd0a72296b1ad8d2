"""A slow, call-counting point function for the sweep resume test (importable by workers)."""

import time
import uuid
from pathlib import Path


def slow_square(x: float, marker_dir: str, delay_s: float = 0.3) -> float:
    time.sleep(delay_s)
    (Path(marker_dir) / f"{x}-{uuid.uuid4().hex}").touch()
    return x * x
