"""Configuration: config/defaults.toml, then the file named in CAIRN_CONFIG, then CAIRN_* variables."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"


def _coerce(raw: str, like: Any) -> Any:
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(like, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(like, int | float):  # a whole-number default may be given a fraction: 0.1 s
        for number in (int, float):
            try:
                return number(raw)
            except ValueError:
                pass
        raise ValueError(f"expected a number, got {raw!r}")
    return raw


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge the three sources (and test overrides) into one flat dict of settings."""
    with open(CONFIG_DIR / "defaults.toml", "rb") as fh:
        settings: dict[str, Any] = tomllib.load(fh)
    extra = os.environ.get("CAIRN_CONFIG")
    if extra:
        with open(extra, "rb") as fh:
            settings.update(tomllib.load(fh))
    for key, value in os.environ.items():
        if key.startswith("CAIRN_") and key != "CAIRN_CONFIG":
            name = key[len("CAIRN_"):].lower()
            settings[name] = _coerce(value, settings.get(name, ""))
    settings.update(overrides or {})
    return _resolve(settings)


def _resolve(settings: dict[str, Any]) -> dict[str, Any]:
    instance = Path(settings["instance"])
    if not instance.is_absolute():
        instance = Path.cwd() / instance
    settings["instance"] = str(instance)
    settings["index_dir"] = str(settings["index_dir"]).replace("{instance}", str(instance))
    if not settings.get("database_url"):
        settings["database_url"] = f"sqlite:///{instance / 'cairn.db'}"
    if not settings.get("broker_url"):
        settings["broker_url"] = settings.get("redis_url") or "filesystem://"
    return settings


def secret_key(instance: Path) -> str:
    """CAIRN_SECRET_KEY, or a key generated once and kept in the instance folder."""
    if os.environ.get("CAIRN_SECRET_KEY"):
        return os.environ["CAIRN_SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def policy_path(path: str | None = None) -> Path:
    """The governance policy's file: config/policy.toml unless CAIRN_POLICY names another."""
    return Path(path or os.environ.get("CAIRN_POLICY") or CONFIG_DIR / "policy.toml")


def load_policy(path: str | None = None) -> dict[str, Any]:
    """The governance policy (config/policy.toml unless CAIRN_POLICY names another file)."""
    with open(policy_path(path), "rb") as fh:
        return tomllib.load(fh)
