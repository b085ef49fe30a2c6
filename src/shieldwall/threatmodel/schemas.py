"""The threat model file: what a team writes in design review.

One YAML file per service or feature. Every element has an ``id`` (lower-case words joined by
hyphens) that is unique in the model: threats are keyed by rule and element path
(``components/api``), so renaming an element's ``name`` keeps its threats and their treatment;
changing its ``id`` makes it a new element. ``shieldwall threatmodel schema`` prints the JSON
Schema (``docs/threat-model.schema.json`` is the same, for editors).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shieldwall.threatmodel.vocabulary import (
    ActorTrust,
    Authentication,
    Authorization,
    BoundaryType,
    ComponentType,
    DataClass,
    Exposure,
    Feature,
    Protocol,
)

ElementId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$", min_length=1, max_length=100)
]
"""Lower-case letters and digits, words joined by ``-``, ``_`` or ``.``."""
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
ControlId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
NeedWord = Literal["none", "low", "medium", "high", "critical"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Exclusion(_Spec):
    """A rule that does not apply to this element, and why (the reason is shown in reports)."""

    rule: RuleId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]


class _Element(_Spec):
    id: ElementId
    name: Name | None = None
    description: Text | None = None
    exclude: list[Exclusion] = Field(default_factory=list)

    @property
    def title(self) -> str:
        return self.name or self.id


class AssetSpec(_Element):
    """Data worth protecting. Data classes come from the inventory's vocabulary; the needs
    default from them (personal, payment and health data need high confidentiality,
    credentials and secrets critical) and can be set explicitly."""

    data_classes: list[DataClass] = Field(default_factory=list)
    confidentiality: NeedWord | None = None
    integrity: NeedWord | None = None
    availability: NeedWord | None = None
    subjects: Name | None = None
    """Whose data it is (customers, employees), for privacy threats."""
    controls: list[ControlId] = Field(default_factory=list)
    """Controls on the data itself wherever it is (minimisation, retention, pseudonyms)."""


class ActorSpec(_Element):
    trust: ActorTrust = ActorTrust.UNTRUSTED
    human: bool = True


class ComponentSpec(_Element):
    type: ComponentType
    boundary: ElementId | None = None
    """The innermost trust boundary the component runs in."""
    technology: Name | None = None
    exposure: Exposure = Exposure.INTERNAL
    """``internet`` when anyone on the internet can reach it."""
    custom_developed: bool | None = None
    """Code the team writes (defaults to true for processes, APIs, web applications and
    functions, false for everything else): code-level threats apply only to it."""
    multi_tenant: bool = False
    stores: list[ElementId] = Field(default_factory=list)
    """Assets kept at rest."""
    processes: list[ElementId] = Field(default_factory=list)
    """Assets handled in memory."""
    features: list[Feature] = Field(default_factory=list)
    controls: list[ControlId] = Field(default_factory=list)
    out_of_scope: bool = False
    out_of_scope_reason: Text | None = None

    @model_validator(mode="after")
    def _scope_reason(self) -> ComponentSpec:
        if self.out_of_scope and not self.out_of_scope_reason:
            raise ValueError("out_of_scope needs an out_of_scope_reason")
        return self


class BoundarySpec(_Element):
    type: BoundaryType = BoundaryType.NETWORK
    parent: ElementId | None = None


class FlowSpec(_Spec):
    """Data moving from one actor or component to another. The id defaults to
    ``SOURCE-to-TARGET``; two flows between the same pair need ids of their own."""

    id: ElementId | None = None
    name: Name | None = None
    description: Text | None = None
    source: ElementId
    target: ElementId
    protocol: Protocol = Protocol.HTTPS
    encrypted: bool | None = None
    """Defaults from the protocol; say ``true`` for plain protocols inside a VPN or mesh."""
    authentication: Authentication = Authentication.NONE
    authorization: Authorization = Authorization.NONE
    sends: list[ElementId] = Field(default_factory=list)
    receives: list[ElementId] = Field(default_factory=list)
    readonly: bool = False
    usage: Literal["business", "devops"] = "business"
    controls: list[ControlId] = Field(default_factory=list)
    exclude: list[Exclusion] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return self.id or f"{self.source}-to-{self.target}"

    @property
    def title(self) -> str:
        return self.name or f"{self.source} → {self.target}"


class EntryPointSpec(_Element):
    """A way in: a URL prefix, a port, a queue topic, a file drop."""

    component: ElementId
    exposure: Exposure = Exposure.INTERNAL
    authentication: Authentication = Authentication.NONE
    controls: list[ControlId] = Field(default_factory=list)


class AssumptionSpec(_Spec):
    id: ElementId | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
    validated: bool = False


class ThreatModelSpec(_Spec):
    """A whole threat model file."""

    shieldwall_threat_model: Literal[1] = Field(
        description="The file format's version; 1 is the only one so far."
    )
    title: Name
    service: Name | None = None
    """The inventory service this model describes (its name)."""
    description: Text | None = None
    owner: Name | None = None
    reviewed: dt.date | None = None
    """When the model was last reviewed in design review."""
    reviewers: list[Name] = Field(default_factory=list)
    assets: list[AssetSpec] = Field(default_factory=list)
    actors: list[ActorSpec] = Field(default_factory=list)
    boundaries: list[BoundarySpec] = Field(default_factory=list)
    components: list[ComponentSpec] = Field(default_factory=list)
    flows: list[FlowSpec] = Field(default_factory=list)
    entry_points: list[EntryPointSpec] = Field(default_factory=list)
    assumptions: list[AssumptionSpec] = Field(default_factory=list)
