"""Scenarios: features/core/routing.feature."""

from pytest_bdd import scenarios

from tests.bdd.core.messaging_steps import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name

scenarios("core/routing.feature")
