"""`ExactJSONRequest`: request bodies decoded the one way money needs - numbers as decimals.

Litestar decodes a JSON body with msgspec before pydantic sees it, and msgspec reads a number
with a fraction as a float: ``10.00999999999999999999`` arrives as ``10.01``, so an amount
with too many decimals would be rounded instead of refused. This request class decodes every
JSON body with ``float_hook=Decimal`` - a number reaches the request model exactly as the client
wrote it, and the model's ``decimal_places`` refuses what it refuses for a string. Integers
stay ``int``.

It also turns what msgspec cannot decode into a 400 naming the body: malformed JSON, invalid
UTF-8 inside a string (a ``UnicodeDecodeError``) and arrays or objects nested past Python's
recursion limit (a ``RecursionError``) - the last two would otherwise escape as a 500.
`service_app` passes it as ``request_class``, so both services decode alike; their request
models derive from `RequestBody`, which refuses a field it does not know, by name.
Guide: docs/edge/hostile-input.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.types import Empty
from pydantic import BaseModel, ConfigDict

# --8<-- [start:decoder]
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
"""JSON numbers with a fraction or an exponent become `Decimal`, never `float`."""


def decode_body(body: bytes) -> Any:
    """The JSON value of ``body``; a `ValidationException` (400, key ``body``) if it has none."""
    try:
        return _DECODER.decode(body)
    except UnicodeDecodeError as exc:
        reason = f"a string holds invalid UTF-8 (byte {exc.start})"
    except RecursionError:
        reason = "arrays or objects are nested too deeply"
    except msgspec.DecodeError as exc:
        reason = str(exc)
    raise ValidationException(
        detail="The request body is not valid JSON",
        extra=[{"message": reason, "key": "body", "source": "body"}],
    )
    # --8<-- [end:decoder]


class ExactJSONRequest(Request[Any, Any, Any]):
    """A Litestar `Request` whose ``json()`` is `decode_body`."""

    async def json(self) -> Any:
        if self._json is Empty:
            cached = self._connection_state.json
            if cached is Empty:
                cached = self._connection_state.json = decode_body(await self.body() or b"null")
            self._json = cached
        return self._json


# --8<-- [start:request-body]
class RequestBody(BaseModel):
    """Base of the services' request models: an unknown field is a 400 naming it, not ignored
    (a client's typo - ``"ammount"`` - must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # --8<-- [end:request-body]
