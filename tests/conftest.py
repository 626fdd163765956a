"""Shared test fixtures: where the shared real-world assets live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ASSETS = REPO_ROOT.parent / "shared" / "assets"


@pytest.fixture(scope="session")
def soldier_glb() -> Path:
    path = SHARED_ASSETS / "Soldier.glb"
    assert path.is_file(), f"expected the shared test asset at {path}"
    return path


@pytest.fixture(scope="session")
def robot_glb() -> Path:
    path = SHARED_ASSETS / "RobotExpressive.glb"
    assert path.is_file(), f"expected the shared test asset at {path}"
    return path
