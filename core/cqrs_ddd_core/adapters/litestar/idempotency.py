"""`IdempotentPosts`: a retried ``POST`` has its effect once - the inbox pattern at the HTTP edge.

A client that timed out cannot tell whether its request took effect. It sends the request
again with the same ``Idempotency-Key`` header (the IETF httpapi draft's header, as Stripe's API
uses it; eShop's ``IdentifiedCommand`` is the same idea), and gets the first response again,
marked ``Idempotent-Replayed: true``, with no second effect. Every ``POST`` of a service takes
the header: this middleware wraps them all, so a route has nothing to add. Read `handle`:

1. **Look.** A stored response for ``(caller, key)``? The same request (method, path and body
   give its fingerprint) is answered from it; another request under that key gets 422.
2. **Run once, in one transaction.** Open the service's unit of work and make it current
   (`unit_of_work_scope`): the route's commands join it as nested commands, and its queries
   read through it, so the response is built from the uncommitted effects. The response is held
   back. A 2xx is stored with `IIdempotencyStorage.save` **in that unit of work**, then
   everything commits at once: effects, outbox rows and the response - or none of them. So a
   key is never recorded for an effect that did not happen, nor an effect without its key.
   Anything else rolls back and is not stored: nothing happened, and a retry runs anew.
3. **Lost a race.** Requests with one key at the same time all get past step 1. The primary
   key ``(caller, key)`` lets one commit; the others find its row when they try to save theirs
   (waiting for its commit on PostgreSQL, queued behind it on SQLite), roll their own effects
   back and answer as step 1 would. A request that failed meanwhile - a transfer refused once
   the first one spent the money - looks again too. Exactly one effect; the others wait for
   it and replay it, never a 409 unless a record cannot be read back (then: retry).

Keys are 1-255 printable ASCII characters (400 otherwise) and are the caller's own: `caller_of`
names the authenticated actor, or one anonymous caller when a route has no authentication.
Records expire after ``IDEMPOTENCY_TTL_SECONDS`` (24 h by default).
Scenario: features/edge/idempotency.feature. Guide: docs/patterns/idempotency.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from cqrs_ddd_core.cqrs.scope import unit_of_work_scope
from cqrs_ddd_core.ports.idempotency import IdempotencyRecord, IIdempotencyStorage, RecordedResponse
from cqrs_ddd_core.ports.unit_of_work import UnitOfWork
from cqrs_ddd_core.primitives.actor import Actor
from cqrs_ddd_core.primitives.exceptions import ConcurrencyError
from cqrs_ddd_core.primitives.ids import new_id

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY = "Idempotency-Key"
IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
ANONYMOUS = "anonymous"
"""The caller of a request no one authenticated: such requests share one set of keys."""

_KEY = re.compile(rb"[\x20-\x7e]{1,255}")
MAX_BODY = 10_000_000
"""The body is read here, before Litestar's own limit applies: the same limit (its default)."""


# --8<-- [start:caller]
def caller_of(scope: Scope) -> str:
    """Whose keys a request uses: its authenticated actor's id, else the anonymous caller."""
    user = scope.get("user")
    return user.id if isinstance(user, Actor) else ANONYMOUS
    # --8<-- [end:caller]


@dataclass(frozen=True)
class _Request:
    caller: str
    key: str
    fingerprint: str


class _Outcome(Enum):
    COMMITTED = "committed"
    """Effects and response stored together: send the response."""
    REFUSED = "refused"
    """Not a 2xx: rolled back, nothing stored - unless another request with the key won."""
    LOST = "lost"
    """Another request with the key committed first: our effects were rolled back."""


class IdempotentPosts(ASGIMiddleware):
    """Stores each ``POST``'s response with its effects, by caller and ``Idempotency-Key``."""

    scopes = (ScopeType.HTTP,)
    should_bypass_for_scope = staticmethod(lambda scope: scope["method"] != "POST")

    def __init__(self, uow_factory: Callable[[], UnitOfWork], storage: IIdempotencyStorage) -> None:
        self._uow_factory = uow_factory
        self._storage = storage

    # --8<-- [start:handle]
    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        keys = [value for name, value in scope["headers"] if name == b"idempotency-key"]
        if not keys:
            await next_app(scope, receive, send)  # an ordinary request
            return
        if len(keys) > 1 or not _KEY.fullmatch(keys[0]):
            await _send_error(
                send,
                400,
                f"The {IDEMPOTENCY_KEY} header must be one value of 1 to 255 printable ASCII "
                f"characters",
            )
            return
        body = await _read_body(receive)
        if body is None:
            await _send_error(send, 413, f"The request body is larger than {MAX_BODY} bytes")
            return
        request = _Request(caller_of(scope), keys[0].decode("ascii"), _fingerprint(scope, body))
        # 1. Look.
        record = await self._storage.find(request.caller, request.key)
        if record is not None:
            await _answer_from(record, request, send)
            return
        # 2. Run once, in one transaction.
        held = _HeldResponse()
        try:
            outcome = await self._run_once(
                request, scope, _replaying(body, receive), held, next_app
            )
        except Exception:
            # Saving or committing failed after the route answered, so Litestar's error mapping
            # cannot answer any more: we do. A retry with the key is safe, whatever happened.
            logger.exception("POST %s: storing its response failed", scope["path"])
            await _send_error(
                send,
                503,
                f"The response could not be stored with its effects; the request may or may "
                f"not have taken effect - retry with the same {IDEMPOTENCY_KEY}",
            )
            return
        if outcome is _Outcome.COMMITTED:
            await held.release(send)
            return
        # 3. Lost a race (or failed while another request with the key succeeded): look again.
        record = await self._storage.find(request.caller, request.key)
        if record is not None:
            await _answer_from(record, request, send)
        elif outcome is _Outcome.REFUSED:
            await held.release(send)
        else:
            await _send_error(
                send,
                409,
                f"Another request with this {IDEMPOTENCY_KEY} was processed at the same time; "
                f"send the request again to get its response",
            )

    async def _run_once(
        self,
        request: _Request,
        scope: Scope,
        receive: Receive,
        held: _HeldResponse,
        next_app: ASGIApp,
    ) -> _Outcome:
        uow = self._uow_factory()
        async with uow:
            with unit_of_work_scope(uow, session_id=new_id()):
                await next_app(scope, receive, held.hold)
                if not held.succeeded:
                    return _Outcome.REFUSED  # leaving the block rolls back
                saved = await self._storage.save(
                    request.caller, request.key, request.fingerprint, held.recorded(), uow=uow
                )
            if not saved:
                return _Outcome.LOST
            try:
                await uow.commit()
            except ConcurrencyError:  # in memory a lost race shows at the commit
                return _Outcome.LOST
        return _Outcome.COMMITTED
        # --8<-- [end:handle]


@dataclass
class _HeldResponse:
    """The route's response, held back until its effects are committed."""

    messages: list[Message] = field(default_factory=list)
    status: int = 500
    media_type: str = "application/octet-stream"
    body: bytearray = field(default_factory=bytearray)

    async def hold(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.media_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status < 300

    def recorded(self) -> RecordedResponse:
        return RecordedResponse(self.status, bytes(self.body), self.media_type)

    async def release(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


def _fingerprint(scope: Scope, body: bytes) -> str:
    """What makes two requests the same one: method, path and body, byte for byte."""
    digest = hashlib.sha256()
    for part in (str(scope.get("method", "")).encode(), scope["path"].encode(), body):
        digest.update(len(part).to_bytes(8, "big"))  # lengths first: no two splits hash alike
        digest.update(part)
    return digest.hexdigest()


async def _answer_from(record: IdempotencyRecord, request: _Request, send: Send) -> None:
    if record.fingerprint != request.fingerprint:
        await _send_error(
            send,
            422,
            f"This {IDEMPOTENCY_KEY} was used for another request (another path or body); a "
            f"retry must repeat the request exactly, and a new request needs a new key",
        )
        return
    response = record.response
    await _send(
        send,
        response.status_code,
        response.body,
        response.media_type,
        [(IDEMPOTENT_REPLAYED.lower().encode(), b"true")],
    )


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body (``None`` when it exceeds `MAX_BODY`): it is part of the fingerprint."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the route sees what arrived
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body", False):
            break
    return bytes(body)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the route the body read already, then listens as before."""
    delivered = False

    async def replay() -> Any:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send_error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"status_code": status, "detail": detail}).encode()
    await _send(send, status, body, "application/json", [])


async def _send(
    send: Send, status: int, body: bytes, media_type: str, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type.encode("latin-1")),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
