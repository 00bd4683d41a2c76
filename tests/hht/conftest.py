"""MediaPipe for the H&HT tests: missing means skip, unless BENCH_REQUIRE_MEDIAPIPE=1 (CI), where it means failure."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def holistic():
    """``mediapipe.solutions.holistic`` (mediapipe 0.10.21, installed as bench.hht.holistic.INSTALL says)."""
    from bench.hht.holistic import INSTALL, holistic_module

    try:
        return holistic_module()
    except ImportError as error:
        if os.environ.get("BENCH_REQUIRE_MEDIAPIPE") == "1":
            pytest.fail(f"BENCH_REQUIRE_MEDIAPIPE=1 but MediaPipe Holistic cannot be imported ({error})")
        pytest.skip(f"mediapipe not installed ({INSTALL})")


@pytest.fixture(scope="session")
def photo():
    """A real photograph of a person shipped with matplotlib (a dependency of mediapipe): Grace Hopper, 512x600."""
    matplotlib = pytest.importorskip("matplotlib")
    from pathlib import Path

    import numpy as np
    from PIL import Image

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return np.asarray(Image.open(path).convert("RGB"))
