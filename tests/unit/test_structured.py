"""Reading hostile YAML with the line of every value: merge keys, limits, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.structured import load_yaml

HERE = Path("doc.yaml")


def test_merge_keys_bring_keys_in_and_the_mappings_own_keys_win() -> None:
    text = "base: &b {a: 1, b: 2}\nmore: &m {b: 3, c: 4}\nx:\n  <<: [*b, *m]\n  a: 9\n"
    document = load_yaml(HERE, text)
    assert document.data["x"] == {"a": 9, "b": 2, "c": 4}
    assert document.line_of(("x", "c")) == 4


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x:\n  <<: 3\n", "doc.yaml:2: a merge key (<<) must name a mapping or a list of them"),
        ("a: 1\na: 2\n", "doc.yaml:2: duplicate key 'a'"),
        ("[" * 100 + "]" * 100, "doc.yaml:1: nested deeper than 50 levels"),
        ("a: !!python/object:os.system x\n", "unsupported value"),
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ("a: [1, 2\n", "not valid YAML"),
    ],
)
def test_bad_yaml_is_refused_with_its_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(InputError) as raised:
        load_yaml(HERE, text)
    assert problem in str(raised.value)
