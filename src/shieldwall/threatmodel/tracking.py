"""How each threat is treated, kept beside the model (``MODEL.tracking.yaml``) or in the
store, keyed by the threat's stable id.

``accepted`` is governed: it names an owner, an approver who is not the owner, a reason and
an expiry, and on the expiry date the threat is open again. ``transferred`` (to a vendor,
an insurer, another team), ``not_applicable`` and ``mitigated`` (by something the model does
not show) need a reason. A threat whose mitigating controls are all in the model is
mitigated whatever the file says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shieldwall.structured import load_yaml, read_text, validate
from shieldwall.threatmodel.engine import Threat
from shieldwall.threatmodel.vocabulary import ThreatStatus

MAX_TRACKING_BYTES = 5_000_000
ThreatId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9-]+:([a-z_]+/[a-z0-9._-]+|model)$", max_length=300)
]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)]


class TreatmentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["open", "mitigated", "accepted", "transferred", "not_applicable"]
    reason: Reason | None = None
    owner: Person | None = None
    approver: Person | None = None
    expires: dt.date | None = None
    decided: dt.date | None = None
    ticket: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _governed(self) -> TreatmentSpec:
        if self.status != "open" and not self.reason:
            raise ValueError(f"{self.status} needs a reason")
        if self.status == "accepted":
            missing = [k for k in ("owner", "approver", "expires") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"accepted needs {', '.join(missing)}")
            assert self.owner is not None
            assert self.approver is not None
            if self.owner.casefold() == self.approver.casefold():
                raise ValueError("the approver of an acceptance must not be its owner")
            if (
                self.decided is not None
                and self.expires is not None
                and self.expires <= self.decided
            ):
                raise ValueError("expires must be after decided")
        return self


class TrackingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shieldwall_threat_tracking: Literal[1]
    threats: dict[ThreatId, TreatmentSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class Tracking:
    treatments: Mapping[str, TreatmentSpec]
    path: Path | None = None


def tracking_path_for(model: Path) -> Path:
    """``checkout.yaml`` → ``checkout.tracking.yaml``, beside it."""
    return model.with_name(f"{model.stem}.tracking{model.suffix or '.yaml'}")


def load_tracking(path: Path) -> Tracking:
    return parse_tracking(path, read_text(path, MAX_TRACKING_BYTES))


def parse_tracking(path: Path, text: str) -> Tracking:
    document = load_yaml(path, text)
    if not isinstance(document.data, dict):
        raise document.error(
            (), "a tracking file is a mapping with shieldwall_threat_tracking and threats"
        )
    return Tracking(validate(document, TrackingSpec).threats, path)


def apply(threats: Iterable[Threat], tracking: Tracking, today: dt.date) -> list[str]:
    """Set each threat's status from its treatment; return the tracked ids no threat has
    any more (the element or rule went away: the entry can be removed)."""
    seen: set[str] = set()
    for threat in threats:
        treatment = tracking.treatments.get(threat.id)
        if treatment is None:
            continue
        seen.add(threat.id)
        threat.treatment = treatment
        if threat.status == ThreatStatus.MITIGATED:
            continue
        if (
            treatment.status == "accepted"
            and treatment.expires is not None
            and treatment.expires < today
        ):
            threat.status = ThreatStatus.OPEN
            threat.status_note = (
                f"acceptance by {treatment.approver} expired on {treatment.expires.isoformat()}"
            )
            continue
        threat.status = ThreatStatus(treatment.status)
        threat.status_note = treatment.reason or ""
    return sorted(set(tracking.treatments) - seen)
