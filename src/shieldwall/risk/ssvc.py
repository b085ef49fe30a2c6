"""CISA's SSVC coordinator decision tree (v2.0.3, CERTCC/SSVC ``data/csv/cisa``), as data.

Key: (exploitation, automatable, technical impact total, mission impact) -> outcome. A test
checks this table against the published CSV row by row.
"""

from __future__ import annotations

from itertools import product

from shieldwall.risk.policy import Exploitation, Level, Outcome

_T, _TS, _AT, _ACT = Outcome.TRACK, Outcome.TRACK_STAR, Outcome.ATTEND, Outcome.ACT

# Rows in the CSV's order: exploitation (none, poc, active) > automatable (no, yes) >
# technical impact (partial, total) > mission impact (low, medium, high).
_OUTCOMES = (
    *(_T, _T, _T, _T, _T, _TS, _T, _T, _AT, _T, _T, _AT),  # none
    *(_T, _T, _TS, _T, _TS, _AT, _T, _T, _AT, _T, _TS, _AT),  # public poc
    *(_T, _T, _AT, _T, _AT, _ACT, _AT, _AT, _ACT, _AT, _ACT, _ACT),  # active
)

COORDINATOR: dict[tuple[Exploitation, bool, bool, Level], Outcome] = dict(
    zip(
        product(
            (Exploitation.NONE, Exploitation.POC, Exploitation.ACTIVE),
            (False, True),
            (False, True),
            (Level.LOW, Level.MEDIUM, Level.HIGH),
        ),
        _OUTCOMES,
        strict=True,
    )
)


def decide(exploitation: Exploitation, automatable: bool, total: bool, mission: Level) -> Outcome:
    return COORDINATOR[(exploitation, automatable, total, mission)]
