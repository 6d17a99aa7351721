"""`Query`: a request to read. Its handler returns DTOs and never changes state.

Guide: docs/components/queries.md.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from cqrs_ddd_core.primitives.context import get_causation_id, get_correlation_id
from cqrs_ddd_core.primitives.ids import new_id

TResult = TypeVar("TResult")


# --8<-- [start:query]
class Query(BaseModel, Generic[TResult]):
    """Base class of all queries; ``TResult`` is the type of ``response.result``."""

    model_config = ConfigDict(frozen=True)

    query_id: str = Field(default_factory=new_id)
    correlation_id: str | None = Field(default_factory=get_correlation_id)
    causation_id: str | None = Field(default_factory=get_causation_id)

    @property
    def message_id(self) -> str:
        return self.query_id
        # --8<-- [end:query]
