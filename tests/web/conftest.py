"""Fixtures for the web tests that other areas may opt into."""

from __future__ import annotations

import pytest

from tests.querycount import lazy_loads_raise


@pytest.fixture
def no_lazy_loads():
    """A relationship lazy-loaded with SQL more than once per request raises (an N+1)."""
    with lazy_loads_raise():
        yield
