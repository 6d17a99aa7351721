"""Paging a list endpoint: ``limit``, an opaque ``cursor``, and a ``Link: rel="next"`` header.

Every list endpoint answers at most ``limit`` rows (1-1000, default 100) and stays a plain
JSON array. When there is more, the response carries ``Link: </orders?limit=2&cursor=...>;
rel="next"`` (RFC 8288): the URL of the next page, the same query with a cursor that names the
last row sent. The last page has no ``Link``. The thing to notice is the *keyset*: the cursor
holds the last row's sort key (``placed_at`` and id, say), and the next page asks for the rows
after that key - not for an offset, which would skip or repeat rows when orders arrive between
two pages. Sort on a key that is unique (a tiebreak on the id), or rows sharing a sort value
could fall between pages.

The cursor is the key as a JSON list, base64url-encoded: opaque to clients (they pass it back
as they got it), readable in a log. One that does not decode to a key of the right shape is a
400 naming ``cursor``; a cursor forged to another valid key only pages from there, which the
client could have asked for anyway. A route fetches ``limit + 1`` rows: the extra one, never
sent, says whether a next page exists. The URL in ``Link`` is relative - built from the path
and query only, never from the ``Host`` header a client controls.
Guide: docs/edge/hostile-input.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter

K = TypeVar("K")
T = TypeVar("T")

MAX_PAGE = 1000
DEFAULT_PAGE = 100

# --8<-- [start:parameters]
PageLimit = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE, description=f"Rows per page, 1-{MAX_PAGE}")
]
PageCursor = Annotated[
    str | None,
    QueryParameter(
        max_length=500, pattern=r"^[A-Za-z0-9_-]*$", description="From the Link rel=next"
    ),
]
# --8<-- [end:parameters]


def encode_cursor(*key: str) -> str:
    """The opaque cursor of a row's sort key."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, parse: Callable[[list[str]], K]) -> K | None:
    """``parse`` of the key in ``cursor`` (None without one); a 400 naming ``cursor`` when
    the cursor holds no key ``parse`` accepts (it raises ``ValueError`` for those)."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or not all(isinstance(part, str) for part in key):
            raise ValueError("not a list of strings")
        return parse(key)
    except (ValueError, TypeError, binascii.Error):
        raise ValidationException(
            detail="Invalid cursor",
            extra=[
                {
                    "message": "not a cursor this endpoint gave out: pass the one from the "
                    'Link rel="next" header as it is',
                    "key": "cursor",
                    "source": "query",
                }
            ],
        ) from None


# --8<-- [start:page]
def page(
    request: Request[Any, Any, Any],
    rows: Sequence[T],
    limit: int,
    key: Callable[[T], tuple[str, ...]],
    dump: Callable[[T], Any],
) -> Response[list[Any]]:
    """The first ``limit`` of ``rows`` (fetched as ``limit + 1``), with ``Link: rel="next"``
    when the extra row shows there is more."""
    shown = list(rows[:limit])
    headers = {}
    if len(rows) > limit:
        query = [(name, value) for name, value in request.query_params.multi_items()]
        query = [(name, value) for name, value in query if name != "cursor"]
        query.append(("cursor", encode_cursor(*key(shown[-1]))))
        headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'
    return Response([dump(row) for row in shown], headers=headers)
    # --8<-- [end:page]
