"""The catalogue of controls (``controls.yaml``): the words models use for what is in place
and rules use for what mitigates a threat. One vocabulary, so a model's ``mtls`` is what a
rule's ``encryption-in-transit`` is looking for."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from shieldwall.structured import load_yaml, validate_document

ControlWord = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]


class ControlSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ControlWord
    title: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    implies: list[ControlWord] = Field(default_factory=list)


@dataclass(frozen=True)
class Catalogue:
    controls: dict[str, ControlSpec]

    def closure(self, ids: Iterable[str]) -> frozenset[str]:
        """The controls and everything they imply, transitively."""
        seen: set[str] = set()
        stack = list(ids)
        while stack:
            control = stack.pop()
            if control in seen:
                continue
            seen.add(control)
            spec = self.controls.get(control)
            if spec is not None:
                stack.extend(spec.implies)
        return frozenset(seen)

    def unknown(self, control: str) -> str | None:
        """None for a known control, else the problem in words (with the closest match)."""
        if control in self.controls:
            return None
        close = difflib.get_close_matches(control, list(self.controls), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown control {control!r}{hint}; `shieldwall threatmodel controls` lists them"


@cache
def catalogue() -> Catalogue:
    text = resources.files("shieldwall.threatmodel").joinpath("controls.yaml").read_text("utf-8")
    document = load_yaml(Path("controls.yaml"), text)
    specs = validate_document(document, TypeAdapter(list[ControlSpec]))
    controls = {spec.id: spec for spec in specs}
    for spec in specs:
        for implied in spec.implies:
            if implied not in controls:
                raise document.error((), f"{spec.id} implies unknown control {implied!r}")
    return Catalogue(controls)
