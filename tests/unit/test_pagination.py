"""Opaque cursors: what the server issues reads back; anything else is Invalid (a 400), never a crash."""

from __future__ import annotations

import base64
import json

import pytest

from cairn.errors import Invalid
from cairn.models_base import MAX_ID
from cairn.pagination import decode_cursor, encode_cursor


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("value", [0, 1, 42, MAX_ID])
def test_a_cursor_the_server_issued_reads_back(value):
    assert decode_cursor(encode_cursor(value)) == [value]


def test_no_cursor_means_the_first_page():
    assert decode_cursor(None) is None
    assert decode_cursor("") is None


def test_cursors_are_url_safe_and_unpadded():
    cursor = encode_cursor(123456789)
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor


TAMPERED = [
    "not base64!",
    "%%%",
    "====",
    _b64(b"not json"),
    _b64(b"\xff\xfe\x00"),
    _b64(json.dumps({"id": 3}).encode()),
    _b64(json.dumps(3).encode()),
    _b64(json.dumps([]).encode()),
    _b64(json.dumps([1, 2]).encode()),
    _b64(json.dumps(["3"]).encode()),
    _b64(json.dumps([3.0]).encode()),
    _b64(json.dumps([True]).encode()),
    _b64(json.dumps([None]).encode()),
    _b64(json.dumps([-1]).encode()),
    _b64(json.dumps([MAX_ID + 1]).encode()),
    _b64(json.dumps([10**30]).encode()),
    _b64(b"[" + b"9" * 5000 + b"]"),
]


@pytest.mark.parametrize("cursor", TAMPERED)
def test_a_tampered_cursor_is_invalid_and_names_the_cursor_field(cursor):
    with pytest.raises(Invalid) as err:
        decode_cursor(cursor)
    assert list(err.value.fields) == ["cursor"]


def test_cursor_types_are_checked_position_by_position():
    assert decode_cursor(encode_cursor(3, "x"), types=(int, str)) == [3, "x"]
    with pytest.raises(Invalid):
        decode_cursor(encode_cursor("x", 3), types=(int, str))
