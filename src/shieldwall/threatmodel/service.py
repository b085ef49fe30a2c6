"""Checking a model: load it, run the rules, apply the treatments. The CLI and the server
both call ``analyse``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shieldwall.threatmodel.controls import catalogue
from shieldwall.threatmodel.engine import Exclusion, Threat, by_risk, generate
from shieldwall.threatmodel.facts import ModelIndex
from shieldwall.threatmodel.model import LoadedModel, load_model
from shieldwall.threatmodel.rules import RuleSet, load_rules
from shieldwall.threatmodel.tracking import Tracking, apply, load_tracking, tracking_path_for


@dataclass
class Analysis:
    model: LoadedModel
    index: ModelIndex
    rules: RuleSet
    threats: list[Threat]
    """Most urgent first (``engine.by_risk``)."""
    excluded: list[Exclusion]
    stale_treatments: list[str]
    tracking: Tracking | None

    @property
    def open_threats(self) -> list[Threat]:
        return [t for t in self.threats if t.status == "open"]


def analyse(
    path: Path,
    tracking_path: Path | None = None,
    rule_paths: Iterable[Path] = (),
    today: dt.date | None = None,
) -> Analysis:
    """Check the model at ``path``. The tracking file is ``tracking_path``, else
    ``MODEL.tracking.yaml`` when it exists."""
    rules = load_rules(rule_paths)
    model = load_model(path, rules.ids)
    if tracking_path is None and tracking_path_for(path).is_file():
        tracking_path = tracking_path_for(path)
    tracking = load_tracking(tracking_path) if tracking_path is not None else None
    return analyse_loaded(model, rules, tracking, today)


def analyse_loaded(
    model: LoadedModel, rules: RuleSet, tracking: Tracking | None, today: dt.date | None
) -> Analysis:
    index = ModelIndex(model.spec, catalogue())
    threats, excluded = generate(index, rules)
    stale = apply(threats, tracking, today or dt.date.today()) if tracking else []
    return Analysis(model, index, rules, by_risk(threats), excluded, stale, tracking)
