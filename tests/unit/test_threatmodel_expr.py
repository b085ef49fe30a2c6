"""The rule condition language: typed, checked when loaded, and unable to do anything but
read an element's facts."""

from __future__ import annotations

import pytest

from shieldwall.threatmodel.expr import ExpressionError, compile_condition
from shieldwall.threatmodel.facts import SCHEMAS

FLOW = SCHEMAS["flow"]
FACTS = {
    "encrypted": False,
    "network": True,
    "protocol": "http",
    "data_classes": ["pii", "payment"],
    "max_confidentiality": 3,
    "controls": [],
    "source": {"trust": "untrusted", "kind": "actor"},
    "target": {"type": "api", "kind": "component", "features": ["sql_queries"]},
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("network and not encrypted", True),
        ("protocol in ['http', 'ftp']", True),
        ("protocol == 'https'", False),
        ("'pii' in data_classes", True),
        ("any_of(data_classes, ['health', 'payment'])", True),
        ("all_of(data_classes, ['pii', 'health'])", False),
        ("none_of(data_classes, ['secrets'])", True),
        ("count(data_classes) >= 2", True),
        ("max_confidentiality >= 'high'", True),
        ("max_confidentiality > 'high'", False),
        ("source.trust == 'untrusted' and 'sql_queries' in target.features", True),
        ("encrypted or protocol == 'http'", True),
        ("not (encrypted or network)", False),
        ("true", True),
    ],
)
def test_conditions_evaluate_over_facts(condition: str, expected: bool) -> None:
    assert compile_condition(condition, FLOW)(FACTS) is expected


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        ("encryptd", "unknown attribute 'encryptd' (did you mean 'encrypted'?)"),
        ("protocol == 'htps'", "'htps' is not a possible value here (did you mean 'https'?)"),
        ("'pi' in data_classes", "'pi' is not a possible value here"),
        ("max_confidentiality >= 'hihg'", "'hihg' is not a level"),
        ("source.trsut == 'untrusted'", "unknown attribute source.'trsut'"),
        ("__import__('os').system('true')", "unknown function"),
        ("protocol.__class__", "has no attributes"),
        ("source.kind.__class__", "only one level of attributes"),
        ("[x for x in data_classes]", "ListComp is not allowed"),
        ("(lambda: 1)()", "unknown function"),
        ("network if encrypted else protocol", "IfExp is not allowed"),
        ("1 < count(data_classes) < 3", "chained comparisons"),
        ("protocol < 'http'", "compare numbers or levels only"),
        ("network and", "does not parse"),
        ("x" * 3000, "longer than"),
    ],
)
def test_bad_or_hostile_conditions_fail_when_loaded(condition: str, problem: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        compile_condition(condition, FLOW)
    assert problem in str(raised.value)
