"""Screening posts against config/policy.toml before they enter the knowledge base, and checking
that file when the app loads it.

``check_policy`` refuses, at start, a policy whose settings would only fail later.
``screen_for_policy`` redacts what the organisation does not want disclosed (e-mail addresses,
phone numbers, IP addresses, credentials, card numbers, custom patterns) and reports forbidden
patterns that block a promotion. Findings never contain the secret itself, only a masked hint.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from cairn.curation.candidate_scoring import tuning

PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----.*?"
                         r"(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|\Z)", re.DOTALL)
URL_PASSWORD = re.compile(r"(?<=://)[^\s/:@]+:[^\s/@]+(?=@)")
CREDENTIALS = [
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),                                  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),                         # GitHub tokens
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"),                      # GitHub fine-grained
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),                       # Slack tokens
    re.compile(r"\bsk_(?:live|test)_[A-Za-z0-9]{16,}\b"),                  # Stripe keys
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),  # JWT
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"),
    # `password: x`, `DB_PASSWORD="x"`, `"api_key": "x"`, `aws_secret_access_key = x`: the label stays
    # (bounded repetitions: an unbounded identifier part made long texts take quadratic time)
    re.compile(r"(?i)((?<![a-z0-9])(?:password|passwd|pwd|secret|api[_-]?key|token)(?:[_-][a-z0-9]{1,20}){0,3}"
               r"[\"']?\s*[:=]\s*[\"']?)[^\s`'\"]{3,}"),
]
# the local part is bounded (RFC 5321: 64): unbounded, a long run like "x-x-x-…" took quadratic time
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,63}\b")
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
# also compressed forms (fe80::1); candidates are confirmed by _is_ipv6
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}[ .-]\d{2,4}[ .-]?\d{2,4}(?:[ .-]\d{2,4})?(?!\w)")


@dataclass
class Screening:
    text: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)


def luhn_ok(digits: str) -> bool:
    total, double = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if double:
            d = d * 2 - 9 if d > 4 else d * 2
        total, double = total + d, not double
    return total % 10 == 0


def _mask(value: str) -> str:
    value = value.strip()
    return value[:2] + "…" + value[-2:] if len(value) > 6 else "…"


def _is_card(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _is_ip(match: str) -> bool:
    try:
        ipaddress.ip_address(match)
    except ValueError:
        return False
    return True


def _is_ipv6(match: str) -> bool:
    # at least two groups, so that slices and scopes in code (a[::2], x::y) are left alone
    return _is_ip(match) and sum(1 for part in match.split(":") if part) >= 2


def _is_phone(match: str) -> bool:
    digits = re.sub(r"\D", "", match)
    return 9 <= len(digits) <= 15


def _detectors(policy: dict[str, Any]) -> list[tuple[str, re.Pattern[str], Any]]:
    enabled = policy.get("redaction", {})
    found: list[tuple[str, re.Pattern[str], Any]] = []
    if enabled.get("credentials", True):
        found.append(("private_key", PRIVATE_KEY, None))
        found.append(("url_password", URL_PASSWORD, None))
        found += [("credential", rx, None) for rx in CREDENTIALS]
    if enabled.get("email", True):
        found.append(("email", EMAIL, None))
    if enabled.get("card_number", True):
        found.append(("card_number", CARD, _is_card))
    if enabled.get("ip_address", True):
        found += [("ip_address", IPV4, _is_ip), ("ip_address", IPV6, _is_ipv6)]
    if enabled.get("phone", True):
        found.append(("phone", PHONE, _is_phone))
    for custom in enabled.get("custom", []):
        found.append((custom["name"], re.compile(custom["pattern"]), None))
    return found


def screen_for_policy(text: str, policy: dict[str, Any], source: str = "") -> Screening:
    """Redact ``text``; list what was redacted and which forbidden patterns it contains."""
    result = Screening(text=text)
    for rule in policy.get("forbidden", []):
        if re.search(rule["pattern"], text):
            result.blocked_by.append(rule["name"])
    for kind, rx, accept in _detectors(policy):
        def replace(m: re.Match[str], kind=kind, rx=rx, accept=accept) -> str:
            # credential patterns with a separator group keep "password: " and redact the value
            value = m.group(0)
            if accept is not None and not accept(value):
                return value
            prefix = m.group(1) if rx.groups and m.group(1) else ""
            secret = value[len(prefix):]
            result.findings.append({"kind": kind, "hint": _mask(secret), "source": source})
            return f"{prefix}[REDACTED:{kind}]"

        result.text = rx.sub(replace, result.text)
    return result


def check_policy(policy: dict[str, Any], source: str = "policy.toml") -> dict[str, Any]:
    """``policy`` as loaded, once the settings only read later are known to be right: [candidates]
    is read by the scoring task every 30 minutes on a worker, where a mistyped weight or half-life
    would fail every run while the app looked healthy. Raises ValueError naming ``source`` and the
    setting, so ``create_app`` (the web, the workers, every `cairn` command) stops at start."""
    try:
        tuning(policy)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    return policy
