"""The signed-in user of a web request as the model itself, not Flask-Login's proxy: what the
domain functions take (they compare, store and pass it on)."""

from __future__ import annotations

from flask_login import current_user

from cairn.auth.models import User


def signed_in() -> User:
    return current_user._get_current_object()
