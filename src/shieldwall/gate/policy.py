"""The gate policy, as data: defaults in ``default-gate.yaml`` beside this module (what
``shieldwall policy show --gate`` prints), a team's file laid over them key by key."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shieldwall.inventory.vocabulary import DataClass, Exposure
from shieldwall.risk.policy import Priority, PriorityName
from shieldwall.structured import load_yaml, validate_overlaid

MAX_GATE_POLICY_SIZE = 256 * 1024
SHOW_COMMAND = "shieldwall policy show --gate"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    NONE = "none"

    def admits(self, confidence: str) -> bool:
        """Whether a finding of ``confidence`` is at or above this threshold."""
        order = ("low", "medium", "high")
        if self is Confidence.NONE or confidence not in order:
            return False
        return order.index(confidence) >= order.index(self.value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretGate(_Strict):
    block_verified: bool
    block_confidence: Confidence
    unrated: Literal["block", "warn"]


class UnknownService(_Strict):
    tier: int = Field(ge=0, le=9)
    exposure: Exposure
    data_classes: tuple[DataClass, ...] = ()


class GatePolicy(_Strict):
    version: Literal[1]
    secrets: SecretGate
    block_priority: PriorityName
    compare_with_store: bool
    warn_priority: PriorityName
    honour_exceptions: bool
    required_scanners: tuple[str, ...]
    missing_scanner: Literal["fail-closed", "fail-open"]
    ignore_paths: tuple[str, ...]
    unknown_service: UnknownService
    summary_items: int = Field(ge=0, le=1000)

    @field_validator("required_scanners", "ignore_paths")
    @classmethod
    def _no_blanks(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not value.strip() or len(value) > 200 for value in values):
            raise ValueError("entries must be non-empty, at most 200 characters")
        return tuple(value.strip() for value in values)

    @cached_property
    def blocking(self) -> Priority:
        return Priority.parse(self.block_priority)

    @cached_property
    def warning(self) -> Priority:
        return Priority.parse(self.warn_priority)

    @property
    def digest(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def default_gate_policy_text() -> str:
    return resources.files("shieldwall.gate").joinpath("default-gate.yaml").read_text("utf-8")


def load_gate_policy(path: Path | None) -> GatePolicy:
    """The defaults, with the keys of ``path`` (when given) laid over them."""
    default = load_yaml(Path("default-gate.yaml"), default_gate_policy_text())
    return validate_overlaid(default, path, GatePolicy, MAX_GATE_POLICY_SIZE, SHOW_COMMAND)
