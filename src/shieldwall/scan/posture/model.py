"""What a posture check is and what it answers.

A check is a small function from a :class:`Repository` to a :class:`Verdict`; the :func:`check`
decorator gives it its stable name and one-line description, so the name is written once and
every result carries it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from shieldwall.scan.posture.repository import Repository
from shieldwall.text import one_line

MAX_REASON = 400
MAX_DETAIL = 300
MAX_DETAILS = 200


class Result(StrEnum):
    PASS = "pass"  # noqa: S105 - a check result, not a password
    FAIL = "fail"
    WARN = "warn"
    NOT_APPLICABLE = "not_applicable"


# Which result wins when findings of several kinds are summarised into one.
_SEVERITY = {Result.NOT_APPLICABLE: 0, Result.PASS: 1, Result.WARN: 2, Result.FAIL: 3}


@dataclass(frozen=True)
class CheckResult:
    """One check's answer: what a person reads, a script tests, and the server stores.

    ``reason`` is one line: what was found, where (``file:line``), and what to do; ``details``
    has a line per finding.
    """

    check: str
    result: Result
    reason: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A check's answer before it is named: the result, one reason line, and more lines."""

    result: Result
    reason: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One thing a check found, written as ``file:line what``; ``advice`` overrides the check's."""

    result: Result
    text: str
    advice: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    evaluate: Callable[[Repository], Verdict]

    def run(self, repo: Repository) -> CheckResult:
        """Evaluate and make the text safe to show.

        Reasons and details quote paths and values from the repository, which is hostile:
        each becomes one line without control characters, and their number and length are
        bounded.
        """
        verdict = self.evaluate(repo)
        details = [one_line(line, MAX_DETAIL) for line in verdict.details[:MAX_DETAILS]]
        if len(verdict.details) > MAX_DETAILS:
            details.append(f"… and {len(verdict.details) - MAX_DETAILS} more")
        return CheckResult(
            self.name, verdict.result, one_line(verdict.reason, MAX_REASON), tuple(details)
        )


def check(name: str, description: str) -> Callable[[Callable[[Repository], Verdict]], Check]:
    """Register a function as the check ``name`` (kebab-case, stable: scripts rely on it)."""

    def named(evaluate: Callable[[Repository], Verdict]) -> Check:
        return Check(name, description, evaluate)

    return named


def summarise(findings: Sequence[Finding], *, passed: str, advice: str = "") -> Verdict:
    """One verdict from many findings: the worst result wins and its first finding is the reason.

    The reason names one place and says how many more there are, so a person can act on it
    without reading the details; the details list every finding.
    """
    if not findings:
        return Verdict(Result.PASS, passed)
    worst = max((finding.result for finding in findings), key=_SEVERITY.__getitem__)
    first = next(finding for finding in findings if finding.result is worst)
    more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
    advice = first.advice or advice
    return Verdict(
        worst,
        f"{first.text}{more}; {advice}" if advice else f"{first.text}{more}",
        tuple(finding.text for finding in findings),
    )


def counted(count: int, noun: str) -> str:
    """``1 workflow``, ``3 workflows``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def listing(items: Iterable[str], limit: int = 3) -> str:
    """``a, b, c and 2 more``: names enough to recognise, short enough for one line."""
    names = list(items)
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def as_rows(results: Iterable[CheckResult]) -> list[dict[str, str]]:
    """The flat JSON view scripts rely on: exactly ``check``, ``result`` and ``reason``."""
    return [
        {"check": result.check, "result": str(result.result), "reason": result.reason}
        for result in results
    ]
