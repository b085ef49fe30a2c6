"""CVSS vectors as the facts prioritisation decides on.

A base score alone says too little: SSVC asks whether exploitation is *automatable* (reachable
over the network, no special conditions, no account, nobody to trick) and whether the
*technical impact* is total. Both are read from the vector's metrics, whatever its version.
Scores are computed by the ``cvss`` library, never taken from the source's word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

_MAX_VECTOR = 300
"""Real vectors are under 200 characters, environmental metrics included."""
_VERSION_PREFERENCE = {"4.0": 4, "3.1": 3, "3.0": 2, "2.0": 1}


@dataclass(frozen=True, slots=True)
class CvssFacts:
    version: str
    """"2.0", "3.0", "3.1" or "4.0"."""
    vector: str
    base_score: float
    network: bool
    low_complexity: bool
    """No special conditions: AC:L (v4 also AT:N, the attack requirements v3 folded into AC)."""
    no_privileges: bool
    no_user_interaction: bool
    high_impact: bool
    """Any of confidentiality, integrity or availability lost in full."""
    total_impact: bool
    """SSVC "total": the attacker controls the system's behaviour or reads all its data."""

    @property
    def automatable(self) -> bool:
        """SSVC "automatable": an attacker can script exploitation across many targets."""
        return (
            self.network and self.low_complexity and self.no_privileges and self.no_user_interaction
        )


def parse_cvss(vector: str) -> CvssFacts | None:
    """The facts of a v2, v3.0, v3.1 or v4.0 vector; None when it is not a valid vector.

    v2 vectors have no prefix and are sometimes written in parentheses, as NVD once did.
    """
    if not isinstance(vector, str) or len(vector) > _MAX_VECTOR:
        return None
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            return _v4(text)
        if text.startswith("CVSS:3."):
            return _v3(text)
        if text.startswith("(") and text.endswith(")"):
            text = text[1:-1]
        return _v2(text.removeprefix("CVSS:2.0/"))
    except (CVSSError, ValueError, KeyError, IndexError, ArithmeticError):
        return None  # the library raises more than its own errors on odd input


def best_cvss(vectors: Iterable[tuple[str, str]]) -> CvssFacts | None:
    """The newest CVSS version among an OSV ``severity`` list of (type, score) pairs.

    The newest standard the source scored describes the problem most precisely (v4 separates
    the vulnerable system from the ones behind it; v3.1 fixed v3.0's guidance). Types that are
    not CVSS (Ubuntu's priority words) and vectors that do not parse are passed over; among
    equals, the source's first wins.
    """
    candidates = [
        facts
        for kind, score in vectors
        if str(kind).upper().startswith("CVSS") and (facts := parse_cvss(score)) is not None
    ]
    return max(candidates, key=lambda facts: _VERSION_PREFERENCE[facts.version], default=None)


def _v2(vector: str) -> CvssFacts:
    parsed = CVSS2(vector)
    metrics = parsed.metrics
    impact = (metrics["C"], metrics["I"], metrics["A"])
    return CvssFacts(
        version="2.0",
        vector=vector,
        base_score=float(parsed.base_score),
        network=metrics["AV"] == "N",
        low_complexity=metrics["AC"] == "L",
        no_privileges=metrics["Au"] == "N",  # v2 asks how often one must authenticate
        no_user_interaction=True,  # v2 has no such metric
        high_impact="C" in impact,  # v2's worst is "Complete"
        total_impact=impact == ("C", "C", "C"),
    )


def _v3(vector: str) -> CvssFacts:
    parsed = CVSS3(vector)
    metrics = parsed.metrics
    impact = (metrics["C"], metrics["I"], metrics["A"])
    return CvssFacts(
        version=f"3.{parsed.minor_version}",
        vector=vector,
        base_score=float(parsed.base_score),
        network=metrics["AV"] == "N",
        low_complexity=metrics["AC"] == "L",
        no_privileges=metrics["PR"] == "N",
        no_user_interaction=metrics["UI"] == "N",
        high_impact="H" in impact,
        # Full read and write is total control when availability goes too, or when the scope
        # changes (the attacker reaches beyond the vulnerable component).
        total_impact=impact[:2] == ("H", "H") and (impact[2] == "H" or metrics["S"] == "C"),
    )


def _v4(vector: str) -> CvssFacts:
    parsed = CVSS4(vector)
    metrics = parsed.metrics
    vulnerable = (metrics["VC"], metrics["VI"], metrics["VA"])
    subsequent = (metrics["SC"], metrics["SI"], metrics["SA"])
    return CvssFacts(
        version="4.0",
        vector=vector,
        base_score=float(parsed.base_score),
        network=metrics["AV"] == "N",
        low_complexity=metrics["AC"] == "L" and metrics["AT"] == "N",
        no_privileges=metrics["PR"] == "N",
        no_user_interaction=metrics["UI"] == "N",
        # v3 counted impact beyond the vulnerable component (scope changed) in C/I/A; v4
        # scores it apart as the subsequent system's, so both count here.
        high_impact="H" in vulnerable + subsequent,
        total_impact=vulnerable == ("H", "H", "H") or subsequent == ("H", "H", "H"),
    )
