"""Shared test fixtures: where ../shared/reference lives, and how a missing sclite is treated."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BENCH_SHARED", REPO.parent / "shared"))
REFERENCE = SHARED / "reference"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
