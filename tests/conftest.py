"""Shared test fixtures: where ../shared/reference lives, and how a missing sclite is treated."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# tiny models: one thread is fast on a busy machine, and runs compared with each other (resumed vs straight) must
# compute with the same thread count whatever the load (tests/test_threads.py checks the policy itself)
os.environ.setdefault("BENCH_THREADS", "1")
# packed frame caches of the tests' tiny releases go to a throwaway folder, not the user's ~/.cache, removed at exit
if "BENCH_CACHE" not in os.environ:
    _CACHE_ROOT = tempfile.mkdtemp(prefix="bench-cache-")
    os.environ["BENCH_CACHE"] = os.path.join(_CACHE_ROOT, "frames")  # inherited by the tests' subprocesses
    atexit.register(shutil.rmtree, _CACHE_ROOT, True)
REPO = Path(__file__).resolve().parents[1]
# ../shared beside the checkout; a clone made elsewhere finds the workspace's copy (or BENCH_SHARED)
_CANDIDATES = [Path(os.environ["BENCH_SHARED"])] if os.environ.get("BENCH_SHARED") else \
    [REPO.parent / "shared", Path("/work/shared")]
SHARED = next((c for c in _CANDIDATES if (c / "reference").is_dir()), _CANDIDATES[0])
REFERENCE = SHARED / "reference"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_report_header(config) -> str:
    """Say up front whether the reference-data tests (golden decodes, real vocabularies) will run or skip."""
    if REFERENCE.is_dir():
        return f"shared reference data: {REFERENCE}"
    return f"shared reference data NOT FOUND (tried {', '.join(map(str, _CANDIDATES))}): its tests will skip"


@pytest.fixture(scope="session")
def reference() -> Path:
    """``../shared/reference``; tests that need it skip cleanly where it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip(f"shared reference data not found at {REFERENCE} (set BENCH_SHARED)")
    return REFERENCE


@pytest.fixture(scope="session")
def sclite_binary() -> str:
    """The real sclite; missing means skip, unless BENCH_REQUIRE_SCLITE=1 (CI), where it means failure."""
    from bench.scoring import find_sclite

    path = find_sclite()
    if path is None:
        if os.environ.get("BENCH_REQUIRE_SCLITE") == "1":
            pytest.fail("BENCH_REQUIRE_SCLITE=1 but sclite is not installed (apt-get install sctk)")
        pytest.skip("sclite not installed (apt-get install sctk)")
    return path


# MediaPipe for the H&HT tests: missing means skip, unless BENCH_REQUIRE_MEDIAPIPE=1 (CI), where it means failure
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
