"""Shared test fixtures: where the shared real-world assets live.

They are other people's characters, never copied into the repository: ``../shared/assets``
beside the checkout (as CI lays it out), or the folder ``AVATAR4D_SHARED_ASSETS`` names.
Without them the tests that need them are skipped, except under CI (``CI=true``), where a
missing asset fails the run so that it cannot pass by testing less.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ASSETS = Path(
    os.environ.get("AVATAR4D_SHARED_ASSETS") or REPO_ROOT.parent / "shared" / "assets"
)


def shared_asset(name: str) -> Path:
    path = SHARED_ASSETS / name
    if not path.is_file():
        message = (
            f"expected the shared test asset at {path} "
            "(set AVATAR4D_SHARED_ASSETS to the folder that holds it)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def soldier_glb() -> Path:
    return shared_asset("Soldier.glb")


@pytest.fixture(scope="session")
def robot_glb() -> Path:
    return shared_asset("RobotExpressive.glb")
