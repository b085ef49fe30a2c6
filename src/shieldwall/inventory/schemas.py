"""The inventory file format (YAML or CSV) and the shapes inventory lists return."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from shieldwall.inventory.vocabulary import TIERS, DataClass, Exposure, Lifecycle

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,99}$")
_REPOSITORY = re.compile(r"^(https?|ssh|git)://[^\s]+$|^[\w.-]+@[\w.-]+:[^\s]+$")


def _name(value: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise ValueError(
            "a name is 1-100 letters, digits, spaces or . _ / - and starts with a letter or digit"
        )
    return value


def _tier(value: Any) -> Any:
    # Tiers are small integers; YAML `true` or `1.5` must not slip through as 1.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"tier must be one of {', '.join(map(str, TIERS))}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if value not in TIERS:
        raise ValueError(f"tier must be one of {', '.join(map(str, TIERS))}, not {value!r}")
    return value


def _repository(value: str) -> str:
    value = value.strip()
    if not _REPOSITORY.match(value):
        raise ValueError("repository must be an http(s), ssh or git URL (or user@host:path)")
    return value


Name = Annotated[str, AfterValidator(_name)]
Email = Annotated[EmailStr, AfterValidator(str.lower)]
Tier = Annotated[int, BeforeValidator(_tier)]
Repository = Annotated[str, AfterValidator(_repository)]
Description = Annotated[str, Field(max_length=10_000)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class PersonSpec(_Spec):
    email: Email
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class TeamSpec(_Spec):
    name: Name
    manager: Email | None = None
    champion: Email | None = None
    members: list[Email] = Field(default_factory=list)
    description: Description | None = None


class ServiceSpec(_Spec):
    name: Name
    team: Name
    repository: Repository | None = None
    tier: Tier
    exposure: Exposure
    data: list[DataClass] = Field(default_factory=list)
    lifecycle: Lifecycle = Lifecycle.PRODUCTION
    description: Description | None = None


class InventorySpec(_Spec):
    """A whole inventory file. Each entry is the complete description of its entity."""

    people: list[PersonSpec] = Field(default_factory=list)
    teams: list[TeamSpec] = Field(default_factory=list)
    services: list[ServiceSpec] = Field(default_factory=list)
