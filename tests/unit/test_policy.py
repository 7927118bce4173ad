"""Policy screening (curation.policy.screen_for_policy): what is redacted, what blocks, and that
findings never repeat the secret they found; and the check of the policy when the app loads it
(check_policy). Pure functions: no app needed, but to see an app refuse to start."""

from __future__ import annotations

import copy
import re

import pytest

from cairn.config import CONFIG_DIR, load_policy
from cairn.curation.policy import check_policy, luhn_ok, screen_for_policy
from tests.conftest import make_app

POLICY = load_policy()


def screen(text: str, policy: dict | None = None):
    return screen_for_policy(text, POLICY if policy is None else policy, source="post:1")


SECRETS = [
    # (kind, text, the secret that must disappear)
    ("email", "write to milo.m+ops@mail.example.co.uk today", "milo.m+ops@mail.example.co.uk"),
    ("phone", "call +44 20 7946 0958 now", "7946 0958"),
    ("phone", "call (555) 123-4567 now", "123-4567"),
    ("ip_address", "the box at 10.20.30.40 is down", "10.20.30.40"),
    ("ip_address", "full v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334 here", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("ip_address", "compressed v6 2001:db8::8a2e:370:7334 here", "2001:db8::8a2e:370:7334"),
    ("ip_address", "link-local fe80::1ff:fe23:4567:890a here", "fe80::1ff:fe23:4567:890a"),
    ("credential", "key AKIAIOSFODNN7EXAMPLE in the log", "AKIAIOSFODNN7EXAMPLE"),
    ("credential", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("credential", "token ghp_0123456789abcdefghijABCDEFGHIJ012345 leaked", "ghp_0123456789abcdefghijABCDEFGHIJ012345"),
    ("credential", "pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123 leaked",
     "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123"),
    ("credential", "slack xoxb-123456789012-abcdefABCDEF in chat", "xoxb-123456789012-abcdefABCDEF"),
    ("credential", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fw ok",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fw"),
    ("credential", "Authorization: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234"),
    ("credential", "password: xyz", "xyz"),
    ("credential", "PASSWORD=hunter2", "hunter2"),
    ("credential", 'db_password = "s3cr3t-value"', "s3cr3t-value"),
    ("credential", '{"password": "s3cr3t-json"}', "s3cr3t-json"),
    ("credential", "api_key: 'k-1234567'", "k-1234567"),
    ("url_password", "clone https://bob:hunter2@git.example.com/repo.git", "hunter2"),
    ("private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
     "MIIEpAIBAAKCAQEA"),
    ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", "b3BlbnNzaC1rZXktdjEAAAAA"),
    ("private_key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGBxyz0123\n-----END PGP PRIVATE KEY BLOCK-----",
     "lQOYBGBxyz0123"),
    ("card_number", "card 4111 1111 1111 1111 on file", "4111 1111 1111 1111"),
    ("card_number", "card 5500-0000-0000-0004 on file", "5500-0000-0000-0004"),
    ("employee_id", "ask EMP-123456 about it", "EMP-123456"),
]


@pytest.mark.parametrize("kind,text,secret", SECRETS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(SECRETS)])
def test_secrets_are_redacted_and_findings_never_contain_them(kind, text, secret):
    result = screen(text)
    assert secret not in result.text, result.text
    assert f"[REDACTED:{kind}]" in result.text
    assert kind in [x["kind"] for x in result.findings]
    assert all(x["source"] == "post:1" for x in result.findings)
    assert secret not in repr(result.findings)
    assert result.blocked_by == []


def test_the_credential_label_is_kept_so_the_reader_knows_what_was_there():
    assert screen("password: hunter22").text == "password: [REDACTED:credential]"
    assert screen('secret="abcdef"').text == 'secret="[REDACTED:credential]"'


NOT_SECRETS = [
    "card 4111 1111 1111 1112 fails Luhn",
    "on 2026-01-31 at 12:30:45",
    "order #12345 shipped",
    "use std::vector and a[::2] in code",
    "version 1.2 and port :8080",
    "the tokenizer: whitespace",
    "max_tokens: 1000 is the default",
    "not an ip 999.1.1.1",
    "ratio 3:4:5 is fine",
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_ordinary_text_is_left_alone(text):
    result = screen(text)
    assert result.text == text, result.findings
    assert result.findings == []


def test_luhn_tells_valid_card_numbers_from_invalid_ones():
    assert luhn_ok("4111111111111111")
    assert luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112")
    assert not luhn_ok("79927398710")


def test_forbidden_patterns_block_and_are_named():
    result = screen("This is STRICTLY CONFIDENTIAL, do not share")
    assert result.blocked_by == ["classified_marker"]
    assert screen("confidential matters").blocked_by == []


def test_custom_and_forbidden_patterns_come_from_the_policy_given():
    policy = copy.deepcopy(POLICY)
    policy["redaction"]["custom"] = [{"name": "ticket", "pattern": r"\bSEC-\d{4}\b"}]
    policy["forbidden"] = [{"name": "codename", "pattern": r"(?i)project\s+zebra"}]
    result = screen("SEC-1234 mentions Project  Zebra; EMP-123456 is not custom here", policy)
    assert "[REDACTED:ticket]" in result.text and "SEC-1234" not in result.text
    assert "EMP-123456" in result.text
    assert result.blocked_by == ["codename"]


@pytest.mark.parametrize("switch,text", [
    ("email", "mail a@example.com"),
    ("phone", "call +44 20 7946 0958"),
    ("ip_address", "host 10.0.0.1"),
    ("card_number", "card 4111 1111 1111 1111"),
    ("credentials", "key AKIAIOSFODNN7EXAMPLE"),
])
def test_a_detector_switched_off_in_the_policy_redacts_nothing(switch, text):
    policy = copy.deepcopy(POLICY)
    policy["redaction"][switch] = False
    policy["redaction"]["custom"] = []
    assert screen(text, policy).text == text
    assert screen(text).text != text


def test_several_findings_in_one_text_are_all_listed_in_order_of_kind():
    result = screen("mail a@example.com or b@example.org, host 10.0.0.1, password: hunter22")
    kinds = sorted(x["kind"] for x in result.findings)
    assert kinds == ["credential", "email", "email", "ip_address"]
    for secret in ("a@example.com", "b@example.org", "10.0.0.1", "hunter22"):
        assert secret not in result.text and secret not in repr(result.findings)


@pytest.mark.parametrize("text", ["x-" * 20_000, "1.1." * 10_000, "password_" * 4_000])
def test_a_long_unbroken_text_without_secrets_comes_back_unchanged(text):
    """Pasted blobs as long as a post may be (the runs that once made a pattern take quadratic
    time: bench/screening.py prints how long each takes) are screened to nothing."""
    result = screen(text)
    assert result.text == text and result.findings == [] and result.blocked_by == []


def test_a_credential_at_the_end_of_a_long_run_is_still_redacted():
    text = "x-" * 19_990 + " password: hunter22"
    result = screen(text)
    assert "hunter22" not in result.text and result.text.startswith("x-" * 19_990)
    assert [f["kind"] for f in result.findings] == ["credential"]


def test_the_shipped_policy_passes_its_check_unchanged():
    assert check_policy(copy.deepcopy(POLICY)) == POLICY


@pytest.mark.parametrize(("section", "named"), [
    ({"half_life_days": 0}, "[candidates] half_life_days"),
    ({"half_life_days": "30 days"}, "[candidates] half_life_days"),
    ({"weights": {"replies": -1}}, "[candidates.weights] replies"),
    ({"weights": {"replies": "1.5"}}, "[candidates.weights] replies"),
    ({"weights": {"likes": 1.0}}, "weights.likes"),
    ({"halflife": 30}, "halflife"),
])
def test_a_wrong_candidates_setting_fails_the_check_naming_the_file_and_the_setting(section, named):
    with pytest.raises(ValueError, match=r"^site/policy\.toml: policy \[candidates") as caught:
        check_policy({**POLICY, "candidates": section}, "site/policy.toml")
    assert named in str(caught.value)


def test_an_app_whose_policy_has_a_wrong_weight_refuses_to_start(tmp_path, monkeypatch):
    """The web, the workers and every `cairn` command build the app: none starts with it."""
    shipped = (CONFIG_DIR / "policy.toml").read_text()
    assert "\nbookmarks = 2.0\n" in shipped
    wrong = tmp_path / "policy.toml"
    wrong.write_text(shipped.replace("\nbookmarks = 2.0\n", "\nbookmarks = -2.0\n"))
    monkeypatch.setenv("CAIRN_POLICY", str(wrong))
    with pytest.raises(ValueError, match=rf"^{re.escape(str(wrong))}: .*\[candidates.weights\] bookmarks"):
        make_app(f"sqlite:///{tmp_path / 'cairn.db'}", tmp_path)
    monkeypatch.setenv("CAIRN_POLICY", str(CONFIG_DIR / "policy.toml"))
    app = make_app(f"sqlite:///{tmp_path / 'cairn.db'}", tmp_path)
    assert app.config["POLICY"] == POLICY
    app.extensions["cairn.engine"].dispose()
