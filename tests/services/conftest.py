"""Fixtures for the services' unit tests: each service's mediator over in-memory storage."""

from __future__ import annotations

import pytest

from tests.services.harness import Billing, Ordering, billing_harness, ordering_harness


@pytest.fixture
def ordering() -> Ordering:
    return ordering_harness()


@pytest.fixture
def billing() -> Billing:
    return billing_harness()
