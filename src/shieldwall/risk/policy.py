"""The risk policy: thresholds, the decision table, SLAs and decision rights, as data.

The defaults live in ``default-policy.yaml`` beside this module (what ``shieldwall policy
show`` prints, comments included). A team's file (``SHIELDWALL_POLICY``) changes only the
keys it names: mappings merge key by key, anything else replaces the default.
"""

from __future__ import annotations

import hashlib
import json
from enum import IntEnum, StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shieldwall.findings.vocabulary import Severity
from shieldwall.inventory.vocabulary import DataClass, Exposure
from shieldwall.structured import load_yaml, validate_overlaid

MAX_POLICY_SIZE = 1024 * 1024


class Priority(IntEnum):
    """P0 (fix now) to P4 (when convenient); stored as the number."""

    P0 = 0
    P1 = 1
    P2 = 2
    P3 = 3
    P4 = 4

    @property
    def label(self) -> str:
        return self.name

    @classmethod
    def parse(cls, value: object) -> Priority:
        text = str(value).strip().upper()
        if text in cls.__members__:
            return cls[text]
        raise ValueError(f"{value!r} is not a priority (P0 to P4)")


class Exploitation(StrEnum):
    NONE = "none"
    POC = "poc"
    ACTIVE = "active"


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Outcome(StrEnum):
    """SSVC coordinator outcomes, least urgent first."""

    TRACK = "track"
    TRACK_STAR = "track*"
    ATTEND = "attend"
    ACT = "act"


PriorityName = Literal["P0", "P1", "P2", "P3", "P4"]
ApproverName = Literal["security", "manager", "admin", "lead"]


def _name(priority: Priority) -> PriorityName:
    return cast(PriorityName, priority.name)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExploitationRules(_Strict):
    epss_poc_threshold: float = Field(ge=0, le=1)


class MissionRules(_Strict):
    by_tier: dict[int, Level]
    sensitive_data: list[DataClass]

    @field_validator("by_tier")
    @classmethod
    def _every_tier(cls, value: dict[int, Level]) -> dict[int, Level]:
        missing = {0, 1, 2} - set(value)
        if missing:
            raise ValueError(f"no mission impact for tier {min(missing)}")
        return value


class DecisionRules(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    act: dict[Exposure, PriorityName]
    attend: dict[Exposure, PriorityName]
    track_star: dict[Exposure, PriorityName] = Field(alias="track*")
    track: dict[Exposure, PriorityName]
    info_at_most: PriorityName

    @field_validator("act", "attend", "track_star", "track")
    @classmethod
    def _every_exposure(cls, value: dict[Exposure, str]) -> dict[Exposure, str]:
        missing = [e.value for e in Exposure if e not in value]
        if missing:
            raise ValueError(f"no priority for exposure {missing[0]!r}")
        return value

    def priority(self, outcome: Outcome, exposure: Exposure) -> Priority:
        table = {
            Outcome.ACT: self.act,
            Outcome.ATTEND: self.attend,
            Outcome.TRACK_STAR: self.track_star,
            Outcome.TRACK: self.track,
        }[outcome]
        return Priority.parse(table[exposure])


class CodeRules(_Strict):
    exploitation_by_severity: dict[Severity, Exploitation]
    total_impact_cwes: frozenset[str]
    automatable_cwes: frozenset[str]
    total_impact_severity: Severity


class SecretRules(_Strict):
    verified: Exploitation
    unverified: Exploitation
    live_on_internet: PriorityName


class SlaRules(_Strict):
    days: dict[PriorityName, int]
    by_tier: dict[int, dict[PriorityName, int]]
    remind_days_before: int = Field(ge=0, le=365)

    @field_validator("days")
    @classmethod
    def _every_priority(cls, value: dict[str, int]) -> dict[str, int]:
        missing = [p.name for p in Priority if p.name not in value]
        if missing:
            raise ValueError(f"no SLA for {missing[0]}")
        if any(days < 1 or days > 3650 for days in value.values()):
            raise ValueError("SLA days must be between 1 and 3650")
        return value

    def days_for(self, priority: Priority, tier: int) -> int:
        name = _name(priority)
        return self.by_tier.get(tier, {}).get(name, self.days[name])


class ExceptionRules(_Strict):
    approvers: dict[PriorityName, list[ApproverName]]
    max_days: dict[PriorityName, int]
    remind_days_before: int = Field(ge=0, le=365)
    on_expiry: Literal["restart", "keep"]

    def approvers_for(self, priority: Priority) -> list[str]:
        return list(self.approvers.get(_name(priority), []))

    def longest(self, priority: Priority) -> int:
        return self.max_days.get(_name(priority), 0)


class Policy(_Strict):
    version: Literal[1]
    exploitation: ExploitationRules
    mission_impact: MissionRules
    decision: DecisionRules
    code: CodeRules
    secrets: SecretRules
    sla: SlaRules
    exceptions: ExceptionRules

    @property
    def digest(self) -> str:
        """Changes when anything that decides a priority or a due date changes."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_policy_text() -> str:
    return resources.files("shieldwall.risk").joinpath("default-policy.yaml").read_text("utf-8")


def load_policy(path: Path | None) -> Policy:
    """The defaults, with the keys of ``path`` (when given) laid over them."""
    default = load_yaml(Path("default-policy.yaml"), default_policy_text())
    return validate_overlaid(default, path, Policy, MAX_POLICY_SIZE, "shieldwall policy show")


@lru_cache(maxsize=8)
def _cached(path: Path | None, mtime: float | None) -> Policy:
    return load_policy(path)


def current_policy(path: Path | None) -> Policy:
    """The policy in force, read again when its file changes."""
    mtime = path.stat().st_mtime if path is not None and path.exists() else None
    return _cached(path, mtime)
