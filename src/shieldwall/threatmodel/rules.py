"""Threat rules: data in YAML files (``rules/*.yaml``, and any folder given with
``--rules``), validated and compiled once.

A rule applies to one kind of element (``component``, ``flow``, ``asset``, ``actor``,
``boundary``, ``entry_point`` or the ``model`` as a whole) and fires where its ``when``
condition (see ``expr``) holds. It carries its STRIDE and LINDDUN categories, CWE and CAPEC
ids, likelihood and impact, the controls that mitigate it (from the controls catalogue),
references, and two example models: one where it fires and one where it must not (a test
runs both for every rule).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, TypeAdapter

from shieldwall.errors import InputError
from shieldwall.structured import LocatedDocument, load_yaml, read_text, validate_document
from shieldwall.threatmodel.controls import Catalogue, catalogue
from shieldwall.threatmodel.expr import ExpressionError, attribute_type, compile_condition
from shieldwall.threatmodel.facts import KINDS, SCHEMAS
from shieldwall.threatmodel.vocabulary import Category, Impact, Likelihood

MAX_RULE_FILE_BYTES = 2_000_000
_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)?)\}")

RuleWord = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Kind = Literal["component", "flow", "asset", "actor", "boundary", "entry_point", "model"]
LikelihoodWord = Literal["rare", "unlikely", "possible", "likely", "almost_certain"]
ImpactWord = Literal["negligible", "minor", "moderate", "major", "severe"]


class RuleExamples(BaseModel):
    """Two small models: the rule fires in ``fires`` (on the element at ``element``) and
    must not fire anywhere in ``does_not_fire``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    element: Annotated[str, StringConstraints(max_length=200)]
    fires: dict[str, Any]
    does_not_fire: dict[str, Any]


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleWord
    title: Annotated[str, StringConstraints(min_length=5, max_length=200)]
    applies_to: Kind
    when: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    categories: list[Category] = Field(min_length=1)
    cwe: list[Annotated[int, Field(ge=1, le=99_999)]] = Field(default_factory=list)
    capec: list[Annotated[int, Field(ge=1, le=99_999)]] = Field(default_factory=list)
    likelihood: LikelihoodWord
    impact: ImpactWord
    mitigations: list[RuleWord] = Field(default_factory=list)
    description: Annotated[str, StringConstraints(min_length=10, max_length=4000)]
    """What can go wrong, with ``{name}``-style placeholders for the element's attributes."""
    advice: Annotated[str, StringConstraints(max_length=4000)] | None = None
    references: list[HttpUrl] = Field(default_factory=list)
    examples: RuleExamples


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    test: Callable[[Mapping[str, Any]], bool]
    source: str
    """``file:line`` where the rule is written."""

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def likelihood(self) -> int:
        return int(Likelihood[self.spec.likelihood.upper()])

    @property
    def impact(self) -> int:
        return int(Impact[self.spec.impact.upper()])

    def describe(self, facts: Mapping[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name, _, field = match.group(1).partition(".")
            found = facts.get(name)
            if field:
                found = (found or {}).get(field)
            if isinstance(found, list):
                return ", ".join(map(str, found)) or "none"
            return str(found)

        return _PLACEHOLDER.sub(value, self.spec.description)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    @cached_property
    def by_kind(self) -> dict[str, list[Rule]]:
        grouped: dict[str, list[Rule]] = {kind: [] for kind in KINDS}
        for rule in self.rules:
            grouped[rule.spec.applies_to].append(rule)
        return grouped

    @cached_property
    def ids(self) -> frozenset[str]:
        return frozenset(rule.id for rule in self.rules)


_ADAPTER = TypeAdapter(list[RuleSpec])


def _compile(document: LocatedDocument, controls: Catalogue) -> list[Rule]:
    if not isinstance(document.data, list):
        raise document.error((), "a rules file is a list of rules")
    specs = validate_document(document, _ADAPTER)
    rules = []
    for index, spec in enumerate(specs):
        where = f"rule {spec.id!r}"
        try:
            test = compile_condition(spec.when, SCHEMAS[spec.applies_to])
        except ExpressionError as exc:
            raise document.error((index, "when"), f"{where}: {exc}") from None
        for match in _PLACEHOLDER.finditer(spec.description):
            try:
                attribute_type(match.group(1), SCHEMAS[spec.applies_to])
            except ExpressionError as exc:
                raise document.error((index, "description"), f"{where}: {exc}") from None
        for control in spec.mitigations:
            problem = controls.unknown(control)
            if problem:
                raise document.error((index, "mitigations"), f"{where}: {problem}")
        line = document.line_of((index,)) or 1
        rules.append(Rule(spec, test, f"{document.path}:{line}"))
    return rules


def load_rules(paths: Iterable[Path] = ()) -> RuleSet:
    """The built-in rules and those in ``paths`` (files or folders of ``*.yaml``)."""
    rules = list(builtin_rules().rules)
    for path in paths:
        files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
        if path.is_dir() and not files:
            raise InputError.in_file(path, "no *.yaml rule files in this folder")
        for file in files:
            document = load_yaml(file, read_text(file, MAX_RULE_FILE_BYTES))
            rules += _compile(document, catalogue())
    return _unique(rules)


@cache
def builtin_rules() -> RuleSet:
    folder = resources.files("shieldwall.threatmodel").joinpath("rules")
    rules: list[Rule] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            document = load_yaml(Path("rules") / entry.name, entry.read_text("utf-8"))
            rules += _compile(document, catalogue())
    return _unique(rules)


def _unique(rules: list[Rule]) -> RuleSet:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            raise InputError(
                f"{rule.source}: rule id {rule.id!r} is already used at {seen[rule.id].source}"
            )
        seen[rule.id] = rule
    return RuleSet(tuple(rules))
