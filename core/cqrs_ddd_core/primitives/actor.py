"""`Actor`: who asked for a command or a query - the caller an edge has authenticated.

The HTTP edge turns a verified bearer token into an `Actor` (its ``sub`` claim is `id`, its
``roles`` claim is `roles`) and the application decides what that actor may do. Keeping the
actor a plain value here, not a framework's user object, lets a command carry it into the
handler, where the rule that needs the aggregate's state can be checked.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
