"""`EXCEPTION_HANDLERS`: the core's errors as HTTP responses a client can act on.

Unknown id -> 404; a caller that may not do this -> 403; a business rule or a stale write
refused -> 409 with the reason; a lock that could not be had, or a database too busy or gone
-> 503 (check, then try again); a payload that does not fit a command -> 400 naming each
field, in the same shape as Litestar's own validation errors. Never a 500 for bad input.

Two handlers guard the edge itself. `client_error` answers every Litestar HTTP error (a 400
from parameter validation, a 404 for an unknown route...) in the same shape, but never echoes
more than `ECHO_LIMIT` characters of what the client sent: a 100 KB query string in the detail
would be a 100 KB error. `unexpected` answers anything else - a bug - with a generic 500 that
tells nothing of the inside, and logs the traceback with a correlation id; the client gets the
same id, so the report and the log line meet.
Both services pass this mapping to ``Litestar(exception_handlers=...)``.
Guide: docs/edge/hostile-input.md.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DataError, OperationalError

from cqrs_ddd_core.primitives.context import get_correlation_id
from cqrs_ddd_core.primitives.exceptions import (
    ConcurrencyError,
    DomainError,
    ForbiddenError,
    LockAcquisitionError,
    NotFoundError,
)
from cqrs_ddd_core.primitives.ids import new_id
from cqrs_ddd_core.primitives.text import ID_MAX_LENGTH, IDENTIFIER

logger = logging.getLogger("cqrs_ddd_core.http")

ECHO_LIMIT = 200
"""The most characters of a client's input an error body repeats."""

CORRELATION_HEADER = "X-Correlation-ID"


def shorten(value: Any) -> Any:
    """``value`` with every string cut to `ECHO_LIMIT` characters (inside lists and dicts too)."""
    if isinstance(value, str):
        return value if len(value) <= ECHO_LIMIT else value[:ECHO_LIMIT] + "..."
    if isinstance(value, list):
        return [shorten(item) for item in value]
    if isinstance(value, dict):
        return {key: shorten(item) for key, item in value.items()}
    return value


def error_response(
    status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[dict[str, Any]]:
    body = {"status_code": status, "detail": shorten(detail), **shorten(extra)}
    return Response(body, status_code=status, headers=headers)


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


# --8<-- [start:edge]
def client_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    # Litestar's own errors, in their usual shape, but short: the detail of a failed parameter
    # names the whole URL, query string included.
    extra = {} if exc.extra is None else {"extra": exc.extra}
    return error_response(exc.status_code, exc.detail, headers=exc.headers, **extra)


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # A bug, not bad input: nothing of it goes to the client but an id to quote.
    correlation_id = _correlation_id(request)
    logger.error(
        "Unhandled %s on %s %s [correlation_id=%s]",
        type(exc).__name__,
        request.method,
        request.url.path,
        correlation_id,
        exc_info=exc,
    )
    return error_response(
        500,
        "Internal server error: it is logged under this correlation id",
        headers={CORRELATION_HEADER: correlation_id},
        correlation_id=correlation_id,
    )
    # --8<-- [end:edge]


def _correlation_id(request: Request[Any, Any, Any]) -> str:
    """The story's id if one is current, the client's if it sent a usable one, else a new one."""
    sent = request.headers.get(CORRELATION_HEADER, "")
    if len(sent) <= ID_MAX_LENGTH and re.match(IDENTIFIER, sent):
        return get_correlation_id() or sent
    return get_correlation_id() or new_id()


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    NotFoundError: not_found,
    ForbiddenError: forbidden,
    DomainError: refused,
    ConcurrencyError: conflict,
    LockAcquisitionError: busy,
    OperationalError: unavailable,
    DataError: unstorable,
    PydanticValidationError: invalid,
    HTTPException: client_error,
    HTTP_500_INTERNAL_SERVER_ERROR: unexpected,
}
