"""Scenarios: features/core/dead_letters.feature."""

from pytest_bdd import scenarios

from tests.bdd.core.crash_steps import *  # noqa: F403 - the steps are fixtures pytest-bdd finds by name
from tests.bdd.core.messaging_steps import *  # noqa: F403

scenarios("core/dead_letters.feature")
