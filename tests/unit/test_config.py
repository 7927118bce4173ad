"""Settings from the environment take the type of the default they override."""

from __future__ import annotations

import pytest

from cairn.config import load_settings


def test_environment_values_take_the_default_types(monkeypatch):
    monkeypatch.setenv("CAIRN_LIVE_HEARTBEAT_SECONDS", "0.1")  # a whole-number default, a fraction given
    monkeypatch.setenv("CAIRN_OUTBOX_RETRY_AFTER", "45")
    monkeypatch.setenv("CAIRN_SESSION_COOKIE_SECURE", "yes")
    settings = load_settings()
    assert settings["live_heartbeat_seconds"] == 0.1
    assert settings["outbox_retry_after"] == 45 and isinstance(settings["outbox_retry_after"], int)
    assert settings["session_cookie_secure"] is True


def test_a_number_setting_that_is_not_a_number_says_so(monkeypatch):
    monkeypatch.setenv("CAIRN_OUTBOX_RETRY_AFTER", "soon")
    with pytest.raises(ValueError, match="expected a number, got 'soon'"):
        load_settings()
