"""The built-in secret rules, each against its own examples and near misses, through the
whole scanner (so the keyword prefilter, the placeholder filter and the other rules all take
part: an example must come out named for its own rule), then what a user would notice."""

from __future__ import annotations

import base64
from collections import Counter
from importlib import resources

import pytest

from shieldwall.scan.secrets.engine import PLACEHOLDER_WORDS, SecretScanner, is_placeholder
from shieldwall.scan.secrets.rules import RULES_PACKAGE, Rule, builtin_rules, load_rule_file
from shieldwall.scan.secrets.validators import (
    base64_pem,
    basic_credentials,
    bech32,
    discord_bot_token,
    pgp_armor,
)

RULES = builtin_rules()
IDS = [rule.id for rule in RULES]
CATEGORIES = ("cloud", "vcs", "chat", "payment", "mail", "ai", "monitoring", "database", "keys")
TEMPLATE_MARKS = ("<", "${", "{{", "%(")
"""Placeholder markers an example line may hold as markup (an XML element, a shell line): for
these it is the secret found that must not have them."""
BROAD_KEYWORDS = {"key", "api", "secret", "token", "auth", "pass", "password", "pwd", "sk", "pk"}
"""Keywords on so many lines that only the generic rules may have them."""


def rule_file(name: str) -> list[Rule]:
    entry = resources.files(RULES_PACKAGE).joinpath("rules", f"{name}.yaml")
    return load_rule_file(entry.read_text(encoding="utf-8"), f"rules/{name}.yaml")


@pytest.fixture(scope="module")
def scanner() -> SecretScanner:
    return SecretScanner(RULES)


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_every_example_is_found_and_named_for_its_rule(scanner: SecretScanner, rule: Rule) -> None:
    for example in rule.spec.examples:
        found = scanner.scan(example, "example.txt")
        assert [m for m in found if m.rule.id == rule.id], (
            f"{rule.id}: no match in {example!r}; found {[m.rule.id for m in found]}"
        )
        assert not any(is_placeholder(m.secret) for m in found)


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_no_near_miss_is_found_by_its_rule(scanner: SecretScanner, rule: Rule) -> None:
    for near_miss in rule.spec.near_misses:
        found = scanner.scan(near_miss, "near_miss.txt")
        assert not [m for m in found if m.rule.id == rule.id], f"{rule.id}: {near_miss!r}"


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_examples_hold_no_placeholder_and_one_of_the_keywords(rule: Rule) -> None:
    assert all(keyword == keyword.lower() for keyword in rule.spec.keywords)
    for example in rule.spec.examples:
        lowered = example.lower()
        words = [w for w in PLACEHOLDER_WORDS if w not in TEMPLATE_MARKS and w in lowered]
        assert not words, f"{rule.id}: {example!r} holds {words}"
        assert any(keyword in lowered for keyword in rule.spec.keywords), (
            f"{rule.id}: {example!r} holds none of {rule.spec.keywords}"
        )


def test_rule_ids_are_unique_and_there_are_at_least_150() -> None:
    assert [i for i, n in Counter(IDS).items() if n > 1] == []
    assert len(RULES) >= 150


def test_every_category_file_loads_and_has_rules() -> None:
    folder = resources.files(RULES_PACKAGE).joinpath("rules")
    names = sorted(e.name[: -len(".yaml")] for e in folder.iterdir() if e.name.endswith(".yaml"))
    assert set(CATEGORIES) | {"generic"} <= set(names)
    loaded = {name: rule_file(name) for name in names}
    assert all(loaded[name] for name in names)
    assert sum(len(rules) for rules in loaded.values()) == len(RULES)


def test_only_generic_rules_are_low_confidence_or_use_the_broad_keywords() -> None:
    generic = {rule.id for rule in rule_file("generic")}
    for rule in RULES:
        if rule.id in generic:
            continue
        assert rule.spec.confidence.value != "low", rule.id
        assert not BROAD_KEYWORDS & set(rule.spec.keywords), rule.id
    assert all(rule.spec.confidence.value == "low" for rule in rule_file("generic"))


def test_a_stripe_live_key_in_a_config_line_is_named_stripe(scanner: SecretScanner) -> None:
    key = "sk_live_" + "4Fq9ZxR2mT7vLw1Ny8Kc3Hb6"
    [match] = scanner.scan(f'STRIPE_SECRET_KEY = "{key}"\n', "config/settings.py")
    assert match.rule.id.startswith("stripe-")
    assert match.secret == key


@pytest.mark.parametrize(
    "line",
    [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "stripe.api_key = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "DATABASE_URL=postgres://app@db.internal:5432/app",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app",
        "DATABASE_URL=postgres://user:password@localhost/app",
    ],
)
def test_documentation_keys_and_references_are_not_reported(
    scanner: SecretScanner, line: str
) -> None:
    assert scanner.scan(line, "README.md") == []


def test_a_line_marked_gitleaks_allow_is_not_reported(scanner: SecretScanner) -> None:
    key = "sk_live_" + "4Fq9ZxR2mT7vLw1Ny8Kc3Hb6"
    assert scanner.scan(f'STRIPE_SECRET_KEY = "{key}"  # gitleaks:allow\n', "settings.py") == []
    assert scanner.scan(f'STRIPE_SECRET_KEY = "{key}"\n', "settings.py") != []


def test_the_format_checks_refuse_lookalikes_and_garbage() -> None:
    age = "AGE-SECRET-KEY-1" + "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2  # not a checksum
    assert not bech32(age[:74])
    assert not bech32("no separator here")
    assert basic_credentials(base64.b64encode(b"deploy:Zt8qLm2Vx9Rk").decode())
    assert not basic_credentials(base64.b64encode(b"user:password").decode())
    assert not basic_credentials(base64.b64encode(b"no colon").decode())
    assert not basic_credentials("not base64!")
    assert discord_bot_token(base64.b64encode(b"812345678901234567").decode() + ".AbCdEf.x")
    assert not discord_bot_token("bm90IGFuIGlk.AbCdEf.x")
    assert not pgp_armor("-----BEGIN PGP PRIVATE KEY BLOCK-----\n...\n-----END")
    assert not base64_pem(base64.b64encode(b"-----BEGIN PUBLIC KEY-----\nAAAA").decode())
    assert not base64_pem("%%%")
