"""Opaque keyset cursors: base64 of a small JSON list; a tampered cursor is a 400, not a 500."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cairn.errors import Invalid
from cairn.models_base import MAX_ID

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, types: tuple[type, ...] = (int,)) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Invalid("Malformed cursor.", {"cursor": ["not a cursor this server issued"]}) from None
    if (not isinstance(values, list) or len(values) != len(types)
            or not all(type(v) is t for v, t in zip(values, types))
            or any(type(v) is int and not 0 <= v <= MAX_ID for v in values)):
        raise Invalid("Malformed cursor.", {"cursor": ["not a cursor this server issued"]})
    return values
