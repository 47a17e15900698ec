"""A pytest plugin for one negative test: xdist's own `load` scheduling, ahead of mkdocs-execute's."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScheduling

    return LoadScheduling(config, log)
