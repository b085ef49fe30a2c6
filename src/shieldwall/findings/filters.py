"""Filter words as people type them (CLI options, query parameters, form fields): repeated
or comma-separated, any case. One place, so every front door accepts the same words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from shieldwall.errors import InputError
from shieldwall.findings.service import FindingFilter
from shieldwall.findings.vocabulary import ACTIVE_STATUSES, Kind, Severity, Status

EnumT = TypeVar("EnumT", Severity, Kind, Status)


def words(values: Iterable[str] | None) -> list[str]:
    """Values given repeated or comma-separated, lower case."""
    return [w for value in values or [] for part in value.split(",") if (w := part.strip().lower())]


def chosen(
    given: list[str], kind: type[EnumT], flag: str, special: tuple[str, ...] = ()
) -> list[EnumT]:
    """The members named; ``special`` words are accepted and left to the caller."""
    known: dict[str, EnumT] = {member.value: member for member in kind}
    result: list[EnumT] = []
    for word in given:
        if word in special:
            continue
        if word not in known:
            raise InputError(f"{flag} {word!r} is not one of {', '.join([*special, *known])}")
        result.append(known[word])
    return result


def statuses(values: Iterable[str] | None, flag: str = "--status") -> list[Status]:
    """Statuses, where ``active`` is open and reopened (the default) and ``all`` means any."""
    given = words(values)
    named = chosen(given, Status, flag, special=("active", "all"))
    if "all" in given:
        return []
    if "active" in given or not given:
        return [*sorted(ACTIVE_STATUSES), *named]
    return named


def finding_filter(
    *,
    services: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
    status: Sequence[str] | None = None,
    severity: Sequence[str] | None = None,
    kind: Sequence[str] | None = None,
    tool: str | None = None,
    prefix: str = "--",
) -> FindingFilter:
    """A filter from words; ``prefix`` names the options in errors (``--`` or none)."""
    return FindingFilter(
        services=[s.strip() for s in services or [] if s.strip()],
        teams=[t.strip() for t in teams or [] if t.strip()],
        statuses=statuses(status, f"{prefix}status"),
        severities=chosen(words(severity), Severity, f"{prefix}severity"),
        kinds=chosen(words(kind), Kind, f"{prefix}kind"),
        tool=tool.strip() if tool and tool.strip() else None,
    )
