"""Keyset pagination for every API list: ``{"items", "next", "total"}``.

The cursor is the last row's sort key, opaque to clients (base64url of JSON). Keyset rather
than offset paging stays fast on the millionth row and does not skip or repeat rows when
others are inserted meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Integer, Select, func, inspect, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption

from shieldwall.db.base import UTCDateTime
from shieldwall.errors import InputError

MAX_LIMIT = 500
DEFAULT_LIMIT = 50

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next: str | None
    """The cursor for the following page, or null on the last one."""
    total: int
    """Rows matching the filters, on all pages."""


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


CURSOR_MAX = 1024
_INT_RANGE = range(-(2**63), 2**63)


def decode_cursor(cursor: str, width: int) -> list[Any]:
    if len(cursor) > CURSOR_MAX:
        raise InputError("the cursor is not one this API gave")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, RecursionError):
        raise InputError("the cursor is not one this API gave") from None
    if not isinstance(key, list) or len(key) != width:
        raise InputError("the cursor is not one this API gave")
    if not all(
        isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool) and v in _INT_RANGE)
        for v in key
    ):
        raise InputError("the cursor is not one this API gave")
    return key


def paginate(
    session: Session,
    query: Select[Any],
    keys: Sequence[Any],
    cursor: str | None,
    limit: int,
    render: Callable[[list[Any]], list[Item]],
    *,
    descending: bool = False,
    options: Sequence[ExecutableOption] = (),
) -> Page[Item]:
    """One page of ``query`` (rows of one entity, with its filters) ordered by ``keys``:
    columns that are unique together, all ascending or all descending, so that one row-value
    comparison, which an index on the keys serves, finds the rows after the cursor.

    Two steps: the page's primary keys and sort keys alone, which an index answers without
    reading a row (a million candidates cost what fifty do), then those rows, loaded with
    ``options``."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    entity = query.column_descriptions[0]["entity"]
    primary = inspect(entity).primary_key[0]
    narrow = query.with_only_columns(primary, *keys, maintain_column_froms=True).order_by(
        *(key.desc() if descending else key for key in keys)
    )
    if cursor is not None:
        after = tuple_(*map(_from_cursor, keys, decode_cursor(cursor, len(keys))))
        narrow = narrow.where(tuple_(*keys) < after if descending else tuple_(*keys) > after)
    found = session.execute(narrow.limit(limit + 1)).all()
    more = len(found) > limit
    found = found[:limit]
    ids = [row[0] for row in found]
    loaded = {}
    if ids:
        load = select(entity).options(*options).where(primary.in_(ids))
        loaded = {getattr(row, primary.key): row for row in session.scalars(load)}
    next_cursor = encode_cursor([_to_cursor(v) for v in found[-1][1:]]) if more else None
    items = render([loaded[i] for i in ids])
    return Page[Item](items=items, next=next_cursor, total=total or 0)


def each(render: Callable[[Any], Item]) -> Callable[[list[Any]], list[Item]]:
    """A page renderer from a row renderer."""
    return lambda rows: [render(row) for row in rows]


def _to_cursor(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _from_cursor(key: Any, value: Any) -> Any:
    """A cursor value for ``key``'s column, of that column's type (a forged cursor with a
    text where a number belongs is refused, not sent to the database)."""
    if isinstance(key.type, Integer) is not isinstance(value, int) and not isinstance(
        key.type, UTCDateTime
    ):
        raise InputError("the cursor is not one this API gave")
    if not isinstance(key.type, UTCDateTime):
        return value
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError("the cursor is not one this API gave") from None
