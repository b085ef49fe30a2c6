"""Secret rules: loaded from YAML, validated, compiled once.

A rule names the keywords that must appear (lower case) on a line before its regular
expression runs there: that prefilter is what keeps the scan fast, so every rule has at least
one keyword, and its regex must only match text that contains one of them. The secret is the
regex's group named ``secret``, else its first group, else the whole match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Severity
from shieldwall.scan.secrets.validators import VALIDATORS

RULES_PACKAGE = "shieldwall.scan.secrets"


class Confidence(StrEnum):
    """How sure a match is a real secret. ``high``: a provider's own format (a prefix, a
    fixed length, a checksum); ``medium``: a format that needs context (a keyword nearby);
    ``low``: a generic assignment with enough entropy."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


Keyword = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[^A-Z]+$")]


class RuleSpec(BaseModel):
    """A rule as written in the YAML files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
    title: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    keywords: list[Keyword] = Field(min_length=1)
    regex: str
    confidence: Confidence
    severity: Severity = Severity.HIGH
    entropy: float | None = Field(default=None, ge=0, le=8)
    """The least Shannon entropy (bits per character) of the secret."""
    validate_with: str | None = Field(default=None, alias="validate")
    """An offline check of the secret's format (``validators.VALIDATORS``): a match that
    fails it is dropped."""
    multiline: bool = False
    """The secret spans lines (a PEM key): the regex runs on the file, not on the line."""
    allowlist: list[str] = []
    """Regular expressions on the secret that mark it as not one (placeholders)."""
    stopwords: list[Keyword] = []
    """Substrings of the lower-cased secret that mark it as not one."""
    references: list[str] = []
    examples: list[str] = Field(min_length=1)
    """Lines the rule must find a secret in (fake secrets in the provider's real format)."""
    near_misses: list[str] = Field(min_length=1)
    """Lines that look close and must not match (tests run both)."""


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleSpec]


@dataclass(frozen=True, eq=False, repr=False)
class Rule:
    spec: RuleSpec
    pattern: re.Pattern[str]
    group: int | str
    allowlist: tuple[re.Pattern[str], ...]

    @property
    def id(self) -> str:
        return self.spec.id

    def __repr__(self) -> str:
        return f"Rule({self.id})"  # not the examples: they look like secrets

    def secret_of(self, match: re.Match[str]) -> tuple[str, int]:
        """The secret a match found, and where it starts in the searched text."""
        return match.group(self.group), match.start(self.group)


def compile_rule(spec: RuleSpec, origin: str) -> Rule:
    try:
        pattern = re.compile(spec.regex, re.MULTILINE if spec.multiline else 0)
        allowlist = tuple(re.compile(p) for p in spec.allowlist)
    except re.error as exc:
        raise InputError(f"{origin}: rule {spec.id}: bad regular expression: {exc}") from None
    if spec.validate_with is not None and spec.validate_with not in VALIDATORS:
        known = ", ".join(sorted(VALIDATORS))
        raise InputError(f"{origin}: rule {spec.id}: unknown validator (known: {known})")
    group: int | str = 0
    if "secret" in pattern.groupindex:
        group = "secret"
    elif pattern.groups:
        group = 1
    return Rule(spec, pattern, group, allowlist)


def load_rule_file(text: str, origin: str) -> list[Rule]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{origin}: not YAML: {str(exc).splitlines()[0]}") from None
    try:
        parsed = RuleFile.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InputError(
            f"{origin}: {_rule_named(document, error['loc'])}{where}: {error['msg']}"
        ) from None
    return [compile_rule(spec, origin) for spec in parsed.rules]


def _rule_named(document: object, location: tuple[int | str, ...]) -> str:
    """ "rule ID: " for an error inside a rule that has an id, so the author finds it."""
    if len(location) >= 2 and location[0] == "rules" and isinstance(document, dict):
        rules, index = document.get("rules"), location[1]
        if isinstance(rules, list) and isinstance(index, int) and index < len(rules):
            rule = rules[index]
            if isinstance(rule, dict) and isinstance(rule.get("id"), str):
                return f"rule {rule['id'][:80]}: "
    return ""


def load_rules(extra: Iterable[Path] = ()) -> list[Rule]:
    """The built-in rules, then those of the ``extra`` files (an id already defined is
    replaced: a team can tighten a built-in rule)."""
    by_id = {rule.id: rule for rule in builtin_rules()}
    for path in extra:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
        by_id.update((rule.id, rule) for rule in load_rule_file(text, str(path)))
    return list(by_id.values())


@cache
def builtin_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    folder = resources.files(RULES_PACKAGE).joinpath("rules")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        for rule in load_rule_file(entry.read_text(encoding="utf-8"), f"rules/{entry.name}"):
            if rule.id in seen:
                raise InputError(f"rules/{entry.name}: rule {rule.id} is defined twice")
            seen.add(rule.id)
            rules.append(rule)
    return tuple(rules)
