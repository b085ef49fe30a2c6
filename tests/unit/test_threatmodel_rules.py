"""Every built-in threat rule fires on its example model and stays quiet on its near miss."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shieldwall.threatmodel.controls import catalogue
from shieldwall.threatmodel.engine import generate
from shieldwall.threatmodel.facts import ModelIndex
from shieldwall.threatmodel.model import parse_model
from shieldwall.threatmodel.rules import Rule, RuleSet, builtin_rules

RULES = builtin_rules().rules


def _threat_ids(rule: Rule, model: dict[str, object]) -> set[str]:
    loaded = parse_model(Path(f"{rule.id}.yaml"), yaml.safe_dump(model), builtin_rules().ids)
    threats, _ = generate(ModelIndex(loaded.spec, catalogue()), RuleSet((rule,)))
    return {threat.id for threat in threats}


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_fires_on_its_example(rule: Rule) -> None:
    examples = rule.spec.examples
    assert f"{rule.id}:{examples.element}" in _threat_ids(rule, examples.fires)


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_rule_does_not_fire_on_its_near_miss(rule: Rule) -> None:
    assert _threat_ids(rule, rule.spec.examples.does_not_fire) == set()
