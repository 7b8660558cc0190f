"""Opaque keyset cursors for `?limit=&cursor=` lists (API.md "Lists")."""
import base64
import json

from .errors import Invalid

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def encode(values) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor):
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise Invalid("The cursor is not one this API gave out.", {"cursor": "Invalid cursor."}) from None


def limit_of(limit) -> int:
    if limit in (None, ""):
        return DEFAULT_LIMIT
    try:
        value = int(limit)
    except (TypeError, ValueError):
        raise Invalid("limit must be a whole number.", {"limit": "Not a valid integer."}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}.", {"limit": f"Must be 1 to {MAX_LIMIT}."})
    return value


def page(items, limit, key):
    """items were fetched with limit+1; returns the API's {"items", "next_cursor"}."""
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode(key(items[-1])) if more and items else None}
