"""Shared fixtures. Factories for test data live in tests/utils/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from moneytrail.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MONEYTRAIL_SHARED", ROOT.parent / "shared"))
BENCHMARKS = SHARED / "benchmarks"
AMLSIM_DIR = BENCHMARKS / "amlsim-bench10k-s1"
TIDE_DIR = BENCHMARKS / "tide-li-s42"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace in a temporary directory."""
    return Workspace(tmp_path / "ws").ensure()


def needs_benchmarks():
    return pytest.mark.skipif(
        not AMLSIM_DIR.is_dir(), reason="the shared benchmark data is not beside the project"
    )
