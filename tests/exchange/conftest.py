"""Shared fixtures: the demo patient's CT studies are written once per session."""

from __future__ import annotations

import pytest

from tests.exchange.demo import DemoPatient, write_demo_patient


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPatient:
    return write_demo_patient(tmp_path_factory.mktemp("demo"), visits=4)
