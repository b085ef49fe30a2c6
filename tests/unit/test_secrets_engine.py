"""The secrets engine on its own: where a secret is, what is not one, what a rule file may
say, and that the raw value stays in memory."""

from __future__ import annotations

import pytest

from shieldwall.errors import InputError
from shieldwall.scan.secrets.engine import SecretScanner, shannon_entropy
from shieldwall.scan.secrets.rules import builtin_rules, load_rule_file
from shieldwall.scan.secrets.validators import crc32_base62, jwt

PAT = "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"  # made up, valid checksum
KEY_BODY = "\n".join(["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"] * 3)


@pytest.fixture(scope="module")
def scanner() -> SecretScanner:
    return SecretScanner(builtin_rules())


def test_a_secret_is_found_at_its_line_and_column(scanner: SecretScanner) -> None:
    text = f"# settings\n\nimport os\nTOKEN = '{PAT}'\n"
    [match] = scanner.scan(text, "app/settings.py")
    assert (match.rule.id, match.path, match.line, match.column) == (
        "github-pat",
        "app/settings.py",
        4,
        10,
    )
    assert match.preview == "ghp_****"
    assert PAT not in repr(match)  # nor in a log line or a traceback


def test_a_multi_line_key_is_one_secret_from_its_first_line(scanner: SecretScanner) -> None:
    text = f"x = 1\nKEY = '''-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----'''\n"
    [match] = scanner.scan(text, "k.py")
    assert (match.rule.id, match.line, match.end_line) == ("private-key", 2, 6)


@pytest.mark.parametrize(
    "line",
    [
        f"TOKEN = '{PAT}'  # gitleaks:allow",
        f"TOKEN = '{PAT}'  # pragma: allowlist secret",
        f"TOKEN = '{PAT}'  # shieldwall:allow",
        "api_key = '${API_KEY}'",
        "password = '<your-password-here>'",
        "password = 'changeme-changeme'",
        "secret = 'abcdefghijklmnop'",
        "token = process.env.GITHUB_TOKEN_VALUE",
    ],
)
def test_what_is_not_a_secret_is_not_reported(scanner: SecretScanner, line: str) -> None:
    assert scanner.scan(line, "x.py") == []


def test_a_provider_rule_wins_over_the_generic_one_on_the_same_secret(
    scanner: SecretScanner,
) -> None:
    [match] = scanner.scan(f'github_token = "{PAT}"', "x.py")
    assert match.rule.id == "github-pat"


def test_upper_case_text_and_long_lower_case_characters_keep_their_places(
    scanner: SecretScanner,
) -> None:
    # "İ" lower-cases to two characters: positions must still be those of the text.
    [match] = scanner.scan(f"İİİ = 1\nGITHUB_TOKEN = '{PAT}'", "x.py")
    assert (match.line, match.column) == (2, 17)


def test_checksums_and_tokens_are_checked_offline() -> None:
    assert crc32_base62(PAT)
    assert not crc32_base62(PAT[:-1] + "3")
    header = "eyJhbGciOiJIUzI1NiJ9"
    payload = "eyJzdWIiOiIxIn0"
    assert jwt(f"{header}.{payload}.c2lnbmF0dXJl")
    assert not jwt(f"{payload}.{payload}.c2lnbmF0dXJl")  # no "alg" in the header


def test_entropy_is_bits_per_character() -> None:
    assert shannon_entropy("aaaa") == 0
    assert shannon_entropy("abcd") == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules: [", "not YAML"),
        ("rules:\n  - id: Bad Id\n", "rules.0.id"),
        (
            "rules:\n  - id: x-rule\n    title: a rule\n    keywords: [abc]\n    regex: '('\n"
            "    confidence: high\n    examples: [a]\n    near_misses: [b]\n",
            "rule x-rule: bad regular expression",
        ),
        (
            "rules:\n  - id: x-rule\n    title: a rule\n    keywords: [ABC]\n    regex: 'abc'\n"
            "    confidence: high\n    examples: [a]\n    near_misses: [b]\n",
            "rule x-rule: rules.0.keywords.0",
        ),
    ],
)
def test_a_bad_rule_file_is_refused_with_where_and_why(text: str, problem: str) -> None:
    with pytest.raises(InputError) as refused:
        load_rule_file(text, "team-rules.yaml")
    assert refused.value.message.startswith("team-rules.yaml: ")
    assert problem in refused.value.message
