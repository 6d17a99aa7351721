"""Scenarios: features/core/mediator.feature."""

from pytest_bdd import scenarios

from tests.bdd.core.shop_steps import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name

scenarios("core/mediator.feature")
