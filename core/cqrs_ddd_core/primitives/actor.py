"""`Actor`: who asked for a command or a query - the caller an edge has authenticated.

The HTTP edge turns a verified bearer token into an `Actor` (its ``sub`` claim is `id`, its
``roles`` claim is `roles`) and the application decides what that actor may do. Keeping the
actor a plain value here, not a framework's user object, lets a command carry it into the
handler, where the rule that needs the aggregate's state can be checked.

`SYSTEM` is the actor of what a service does by itself - a consumer turning another context's
event into a command, a process manager, a nested command: no one outside asked, so nothing
is refused. Guide: docs/security.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cqrs_ddd_core.primitives.exceptions import ForbiddenError

OPERATOR = "operator"
"""The back office's role: an operator may act for any customer."""


class Actor(BaseModel):
    """The authenticated caller: its id (a customer's id is also its account id) and roles."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    roles: frozenset[str] = frozenset()

    @property
    def is_operator(self) -> bool:
        return OPERATOR in self.roles

    def may_act_for(self, customer_id: str) -> bool:
        """An operator may act for anyone; a customer only for itself."""
        return self.is_operator or self.id == customer_id

    def require_may_act_for(self, customer_id: str, action: str) -> None:
        """`ForbiddenError` (403) unless this actor may ``action`` for ``customer_id``."""
        if not self.may_act_for(customer_id):
            raise ForbiddenError(self.id, action)

    def require_operator(self, action: str) -> None:
        """`ForbiddenError` (403) unless this actor is an operator."""
        if not self.is_operator:
            raise ForbiddenError(self.id, f"{action}: only an operator may")


# --8<-- [start:system]
SYSTEM = Actor(id="system", roles=frozenset({OPERATOR}))
"""The service itself: the actor of commands no HTTP caller sent (consumers, processes)."""
# --8<-- [end:system]
