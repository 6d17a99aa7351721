"""`EXCEPTION_HANDLERS`: the core's errors as HTTP responses a client can act on.

Unknown id -> 404; a caller that may not do this -> 403; a business rule or a stale write
refused -> 409 with the reason; a lock that could not be had, or a database too busy or gone
-> 503 (check, then try again); a payload that does not fit a command -> 400 naming each
field, in the same shape as Litestar's own validation errors. Never a 500 for bad input.
Both services pass this mapping to ``Litestar(exception_handlers=...)``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.types import ExceptionHandlersMap
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DataError, OperationalError

from cqrs_ddd_core.primitives.exceptions import (
    ConcurrencyError,
    DomainError,
    ForbiddenError,
    LockAcquisitionError,
    NotFoundError,
)


def error_response(status: int, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    return Response({"status_code": status, "detail": detail, **extra}, status_code=status)


def not_found(_: Request[Any, Any, Any], exc: NotFoundError) -> Response[dict[str, Any]]:
    return error_response(404, str(exc))


def forbidden(_: Request[Any, Any, Any], exc: ForbiddenError) -> Response[dict[str, Any]]:
    return error_response(403, str(exc))


def refused(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return error_response(409, str(exc))


def conflict(_: Request[Any, Any, Any], exc: ConcurrencyError) -> Response[dict[str, Any]]:
    return error_response(409, str(exc))


def busy(_: Request[Any, Any, Any], exc: LockAcquisitionError) -> Response[dict[str, Any]]:
    return error_response(503, str(exc))


def unavailable(_: Request[Any, Any, Any], exc: OperationalError) -> Response[dict[str, Any]]:
    # "database is locked", a dropped connection. Usually before anything was written; but a
    # connection lost during the commit leaves the outcome unknown, so say so.
    return error_response(
        503,
        f"The database is unavailable; the request may or may not have taken effect - check "
        f"before retrying: {exc.orig}",
    )


def unstorable(_: Request[Any, Any, Any], exc: DataError) -> Response[dict[str, Any]]:
    # Input the database refused as data (a value out of its range): the client's to fix.
    return error_response(400, f"The database refused a value: {exc.orig}")


def invalid(_: Request[Any, Any, Any], exc: PydanticValidationError) -> Response[dict[str, Any]]:
    # Same shape as Litestar's own validation errors: the field is in "key".
    extra = [
        {"message": e["msg"], "key": ".".join(str(p) for p in e["loc"])}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    return error_response(400, "Validation failed", extra=extra)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    NotFoundError: not_found,
    ForbiddenError: forbidden,
    DomainError: refused,
    ConcurrencyError: conflict,
    LockAcquisitionError: busy,
    OperationalError: unavailable,
    DataError: unstorable,
    PydanticValidationError: invalid,
}
