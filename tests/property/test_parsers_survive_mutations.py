"""Every parser, fed mutated versions of its own fixtures, either reads them or refuses them
with a one-line InputError: never another exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shieldwall.errors import InputError
from tests.conftest import FIXTURES, parse_file
from tests.mutate import paths, replace

JSON_FIXTURES = sorted(
    p
    for p in (FIXTURES / "reports").rglob("*")
    if p.is_file() and p.suffix in (".json", ".sarif", ".jsonl")
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _documents(path: Path) -> list[Any]:
    text = path.read_text()
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _check(tmp: Path, content: bytes, fmt: str) -> None:
    tmp.write_bytes(content)
    problem = ""
    try:
        parse_file(tmp, fmt)
    except InputError as exc:
        problem = str(exc)
    assert "\n" not in problem


@pytest.mark.parametrize("report", JSON_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_structural_mutations(report: Path, tmp_path: Path, data: st.DataObject) -> None:
    documents = _documents(report)
    index = data.draw(st.integers(0, len(documents) - 1))
    target = data.draw(st.sampled_from(paths(documents[index])))
    documents[index] = replace(documents[index], target, data.draw(values))
    content = "\n".join(json.dumps(d) for d in documents).encode()
    fmt = report.parent.name  # fixtures live in a folder named after their format
    _check(tmp_path / report.name, content, fmt)
    _check(tmp_path / report.name, content, "auto")


@pytest.mark.parametrize("report", JSON_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_byte_mutations(report: Path, tmp_path: Path, data: st.DataObject) -> None:
    content = bytearray(report.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(content)))
    _check(tmp_path / report.name, bytes(content[:cut]), "auto")
