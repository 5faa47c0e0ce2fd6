"""Run the Pulumi program once per stack under mocks; tests assert on what it registered."""

from __future__ import annotations

import pytest

from tests.pulumi_mocks import Deployment, run_program

STACKS = ("dev", "prod")


@pytest.fixture(scope="session")
def dev() -> Deployment:
    return run_program("dev")


@pytest.fixture(scope="session")
def prod() -> Deployment:
    return run_program("prod")


@pytest.fixture(scope="session", params=STACKS)
def deployment(request: pytest.FixtureRequest) -> Deployment:
    """Each stack in turn: for properties that must hold in every environment."""
    return request.getfixturevalue(request.param)
