"""HTML forms are validated by the same marshmallow schemas as the API."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from cairn.api import load

LIST_FIELDS = {"post_ids", "groups", "tags", "members", "ids"}


def load_form(schema: Schema, **extra: Any) -> dict[str, Any]:
    """Load ``request.form`` (minus the CSRF token) with ``schema``; 400 page on bad input."""
    data: dict[str, Any] = {}
    for key in request.form:
        if key == "csrf_token" or key.startswith("_"):
            continue
        if key in LIST_FIELDS:
            values = [v for raw in request.form.getlist(key) for v in raw.replace(",", " ").split() if v]
            data[key] = values
        else:  # browsers send CRLF line ends; store text as the API does, with LF
            data[key] = request.form[key].replace("\r\n", "\n")
    data.update(extra)
    return load(schema, data)
