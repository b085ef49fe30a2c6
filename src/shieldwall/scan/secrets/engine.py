"""The secrets scan of one text: keywords first, then only the rules they point at, on only
the lines they are on.

One Aho-Corasick pass over the lower-cased text finds every rule keyword at once (pyahocorasick,
in C); a rule's regular expression then runs on the lines holding one of its keywords, so
most lines of most files never reach a regular expression (gitleaks' design, made cheaper by
scanning per line rather than per file). Multi-line rules (PEM keys) run on the whole text
when their keyword is in it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import ahocorasick

from shieldwall.ingest.normalize import redact_secret, secret_hash, secret_sha1
from shieldwall.scan.secrets.rules import Confidence, Rule
from shieldwall.scan.secrets.validators import VALIDATORS

INLINE_ALLOW = ("shieldwall:allow", "gitleaks:allow", "pragma: allowlist secret")
"""A comment on the line that says its secret is known and fine (ours, gitleaks',
detect-secrets'), so a repository that used one of those tools keeps its decisions."""

PLACEHOLDER_WORDS = (
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "your_",
    "your-",
    "yourkey",
    "xxxxxx",
    "******",
    "dummy",
    "redacted",
    "insert",
    "replace_me",
    "fake",
    "sample",
    "<",
    "${",
    "{{",
    "%(",
    "process.env",
    "os.environ",
    "getenv",
)
"""Substrings of a lower-cased secret that mark a placeholder, a template or a reference to
the real value, never the value itself."""

_REPEATED = re.compile(r"^(.)\1*$", re.DOTALL)
_SEQUENCE = ("0123456789", "abcdefghij", "1234567890")
_RANK = {Confidence.HIGH: 0, Confidence.MEDIUM: 1, Confidence.LOW: 2}


def shannon_entropy(value: str) -> float:
    """Bits per character."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


def is_placeholder(secret: str) -> bool:
    lowered = secret.lower()
    return (
        _REPEATED.match(secret) is not None
        or any(word in lowered for word in PLACEHOLDER_WORDS)
        or any(run in lowered for run in _SEQUENCE)
    )


@dataclass(frozen=True, slots=True)
class SecretMatch:
    """A secret found. ``secret`` lives in memory only: everything written out uses
    ``digest`` and ``preview``."""

    rule: Rule
    path: str
    line: int
    column: int
    end_line: int
    secret: str = field(repr=False)  # never in a log line or a traceback
    confidence: Confidence
    commit: str | None = None
    """The commit that added it, for a secret found in history."""

    @property
    def sha1(self) -> str:
        return secret_sha1(self.secret)

    @property
    def digest(self) -> str:
        """The hash Shieldwall stores and baselines key on (the same for every tool)."""
        return secret_hash(self.sha1)

    @property
    def preview(self) -> str:
        return redact_secret(self.secret)


class SecretScanner:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        automaton = ahocorasick.Automaton()
        owners: dict[str, list[int]] = {}
        for index, rule in enumerate(self.rules):
            for keyword in rule.spec.keywords:
                owners.setdefault(keyword, []).append(index)
        for keyword, indexes in owners.items():
            automaton.add_word(keyword, tuple(indexes))
        automaton.make_automaton()
        self._automaton = automaton
        self._multiline = [rule.spec.multiline for rule in self.rules]

    def scan(self, text: str, path: str) -> list[SecretMatch]:
        """Every secret in ``text`` (the content of ``path``), in the order of the file."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a character whose lower case is longer ("İ")
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        per_line: dict[int, set[int]] = {}
        whole: set[int] = set()
        for end, indexes in self._automaton.iter(lowered):
            line_start = text.rfind("\n", 0, end) + 1
            for index in indexes:
                if self._multiline[index]:
                    whole.add(index)
                else:
                    per_line.setdefault(line_start, set()).add(index)
        if not per_line and not whole:
            return []
        found = [*self._line_matches(text, path, per_line), *self._text_matches(text, path, whole)]
        return _best_per_place(found)

    def _line_matches(
        self, text: str, path: str, per_line: dict[int, set[int]]
    ) -> Iterator[SecretMatch]:
        number, counted = 1, 0
        for start in sorted(per_line):
            number += text.count("\n", counted, start)
            counted = start
            end = text.find("\n", start)
            line = text[start : end if end >= 0 else len(text)]
            if _allowed_inline(line):
                continue
            for index in sorted(per_line[start]):
                rule = self.rules[index]
                for match in rule.pattern.finditer(line):
                    secret, offset = rule.secret_of(match)
                    confidence = _judge(rule, secret)
                    if confidence is not None:
                        yield SecretMatch(
                            rule, path, number, offset + 1, number, secret, confidence
                        )

    def _text_matches(self, text: str, path: str, indexes: Iterable[int]) -> Iterator[SecretMatch]:
        for index in sorted(indexes):
            rule = self.rules[index]
            for match in rule.pattern.finditer(text):
                secret, offset = rule.secret_of(match)
                line_start = text.rfind("\n", 0, offset) + 1
                line_end = text.find("\n", offset)
                if _allowed_inline(text[line_start : line_end if line_end >= 0 else len(text)]):
                    continue
                confidence = _judge(rule, secret)
                if confidence is not None:
                    line = text.count("\n", 0, offset) + 1
                    yield SecretMatch(
                        rule,
                        path,
                        line,
                        offset - line_start + 1,
                        line + secret.count("\n"),
                        secret,
                        confidence,
                    )


def _allowed_inline(line: str) -> bool:
    return any(marker in line for marker in INLINE_ALLOW)


def _judge(rule: Rule, secret: str) -> Confidence | None:
    """The match's confidence, or None when it is not a secret after all."""
    spec = rule.spec
    if not secret or is_placeholder(secret):
        return None
    lowered = secret.lower()
    if any(word in lowered for word in spec.stopwords):
        return None
    if any(pattern.search(secret) for pattern in rule.allowlist):
        return None
    if spec.entropy is not None and shannon_entropy(secret) < spec.entropy:
        return None
    if spec.validate_with is not None and not VALIDATORS[spec.validate_with](secret):
        return None
    return spec.confidence


def _best_per_place(found: list[SecretMatch]) -> list[SecretMatch]:
    """One match per secret and place: where a provider's rule and a generic one both match,
    the more confident (then the earlier-listed, more specific) rule tells what it is."""
    best: dict[tuple[int, int, str], SecretMatch] = {}
    for match in found:
        key = (match.line, match.column, match.secret)
        kept = best.get(key)
        if kept is None or _RANK[match.confidence] < _RANK[kept.confidence]:
            best[key] = match
    return sorted(best.values(), key=lambda m: (m.line, m.column, m.rule.id))
