"""The gate's pure parts: the policy file, the decision per finding, the diff, and the
outputs written for people and CI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from shieldwall.errors import InputError
from shieldwall.findings.vocabulary import Kind, Severity, Status
from shieldwall.gate.diff import ChangedLines, parse_patch
from shieldwall.gate.evaluate import (
    Candidate,
    Context,
    Cover,
    Known,
    Outcome,
    judge,
    missing_scanners,
)
from shieldwall.gate.policy import Confidence, GatePolicy, load_gate_policy
from shieldwall.gate.report import github_annotations, junit, markdown
from shieldwall.gate.schemas import GateItem, GateResult
from shieldwall.risk.policy import Priority

DEFAULT = load_gate_policy(None)
EMPTY = Context({}, {}, {}, None, None)


def candidate(**values: object) -> Candidate:
    base: dict[str, object] = {
        "fingerprint": "f" * 32,
        "tool": "semgrep",
        "kind": Kind.CODE,
        "rule_id": "python.sqli",
        "title": "SQL injection",
        "severity": Severity.CRITICAL,
        "tool_severity": "9.8",
        "cwe_ids": ("CWE-89",),
        "vulnerability_ids": (),
        "path": "app/db.py",
        "line": 10,
        "confidence": None,
        "asserted": None,
    }
    base.update(values)
    return Candidate(**base)  # type: ignore[arg-type]


def policy(text: str, tmp_path: Path) -> GatePolicy:
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    return load_gate_policy(path)


def test_a_policy_file_changes_only_the_keys_it_names(tmp_path: Path) -> None:
    stricter = policy("block_priority: P2\nsecrets: {block_confidence: medium}\n", tmp_path)
    assert stricter.blocking is Priority.P2
    assert stricter.secrets.block_confidence is Confidence.MEDIUM
    assert stricter.secrets.block_verified is True  # kept from the defaults
    assert stricter.required_scanners == DEFAULT.required_scanners
    assert stricter.digest != DEFAULT.digest


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("block_priority: P9\n", "gate.yaml:1"),
        ("secrets:\n  block_confidence: certain\n", "gate.yaml:2"),
        ("missing_scanner: maybe\n", "gate.yaml:1"),
        ("blok_priority: P1\n", "gate.yaml:1"),
        ("- a list\n", "a policy is a mapping"),
        ("required_scanners: ['']\n", "non-empty"),
    ],
)
def test_a_bad_policy_names_its_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        policy(text, tmp_path)


def test_new_findings_block_at_the_priority_the_rest_warn_or_notify() -> None:
    assert judge(candidate(), Priority.P1, 0, EMPTY, DEFAULT).outcome is Outcome.BLOCK
    assert judge(candidate(), Priority.P0, 0, EMPTY, DEFAULT).outcome is Outcome.BLOCK
    assert judge(candidate(), Priority.P2, 0, EMPTY, DEFAULT).outcome is Outcome.WARN
    assert judge(candidate(), Priority.P3, 0, EMPTY, DEFAULT).outcome is Outcome.WARN
    assert judge(candidate(), Priority.P4, 0, EMPTY, DEFAULT).outcome is Outcome.NOTICE


def test_old_findings_never_block() -> None:
    c = candidate()
    in_baseline = Context({}, {}, {}, frozenset({c.fingerprint}), None)
    verdict = judge(c, Priority.P0, 0, in_baseline, DEFAULT)
    assert verdict.outcome is Outcome.WARN
    assert verdict.reason.endswith("in the baseline")
    known = Context({c.fingerprint: Known("abc", Status.OPEN)}, {}, {}, None, None)
    assert judge(c, Priority.P0, 0, known, DEFAULT).outcome is Outcome.WARN
    # ...unless it was fixed and is back: a regression is new.
    fixed = Context({c.fingerprint: Known("abc", Status.FIXED)}, {}, {}, None, None)
    assert judge(c, Priority.P0, 0, fixed, DEFAULT).outcome is Outcome.BLOCK
    elsewhere = Context({}, {}, {}, None, ChangedLines("main", {"app/other.py": {10}}))
    assert judge(c, Priority.P0, 0, elsewhere, DEFAULT).outcome is Outcome.WARN
    here = Context({}, {}, {}, None, ChangedLines("main", {"app/db.py": {9, 10}}))
    assert judge(c, Priority.P0, 0, here, DEFAULT).outcome is Outcome.BLOCK


def test_secrets_block_by_verification_and_confidence_new_or_not() -> None:
    secret = candidate(kind=Kind.SECRET, rule_id="aws-access-key-id", confidence="high")
    old = Context({}, {}, {}, frozenset({secret.fingerprint}), None)
    assert judge(secret, Priority.P1, 0, old, DEFAULT).outcome is Outcome.BLOCK
    low = candidate(kind=Kind.SECRET, confidence="low")
    assert judge(low, Priority.P1, 0, EMPTY, DEFAULT).outcome is Outcome.WARN
    verified = candidate(kind=Kind.SECRET, confidence="low", tool_severity="verified")
    assert judge(verified, Priority.P0, 0, EMPTY, DEFAULT).reason == (
        "a secret the scanner verified as live"
    )
    unrated = candidate(kind=Kind.SECRET, tool="gitleaks")
    assert judge(unrated, Priority.P1, 0, EMPTY, DEFAULT).outcome is Outcome.BLOCK


def test_secret_thresholds_follow_the_policy(tmp_path: Path) -> None:
    lenient = policy("secrets: {block_confidence: none, unrated: warn}\n", tmp_path)
    for confidence in ("high", None):
        secret = candidate(kind=Kind.SECRET, confidence=confidence)
        assert judge(secret, Priority.P0, 0, EMPTY, lenient).outcome is Outcome.WARN
    assert Confidence.MEDIUM.admits("high")
    assert not Confidence.HIGH.admits("medium")


def test_triage_exceptions_suppressions_and_ignored_paths_release_a_finding(
    tmp_path: Path,
) -> None:
    c = candidate()
    until = datetime(2027, 1, 31, tzinfo=UTC)
    triaged = Context(
        {c.fingerprint: Known("abc", Status.FALSE_POSITIVE, "ana")}, {}, {}, None, None
    )
    verdict = judge(c, Priority.P0, 0, triaged, DEFAULT)
    assert verdict.outcome is Outcome.TRIAGED
    assert "by ana" in verdict.reason
    by_rule = Context({}, {}, {"python.sqli": Cover("e1", until)}, None, None)
    verdict = judge(c, Priority.P0, 0, by_rule, DEFAULT)
    assert verdict.outcome is Outcome.EXCEPTED
    assert "until 2027-01-31" in verdict.reason
    by_finding = Context({}, {c.fingerprint: Cover("e2", until)}, {}, None, None)
    assert judge(c, Priority.P0, 0, by_finding, DEFAULT).outcome is Outcome.EXCEPTED
    ignoring = policy("honour_exceptions: false\n", tmp_path)
    assert judge(c, Priority.P0, 0, by_finding, ignoring).outcome is Outcome.BLOCK
    suppressed = candidate(asserted=Status.FALSE_POSITIVE)
    assert judge(suppressed, Priority.P0, 0, EMPTY, DEFAULT).outcome is Outcome.SUPPRESSED
    paths = policy("ignore_paths: ['tests/fixtures/', '*.min.js']\n", tmp_path)
    for path in ("tests/fixtures/x.py", "web/tests/fixtures/y.py", "static/app.min.js"):
        assert judge(candidate(path=path), Priority.P0, 0, EMPTY, paths).outcome is Outcome.IGNORED
    assert judge(candidate(path="tests/unit.py"), Priority.P0, 0, EMPTY, paths).outcome is (
        Outcome.BLOCK
    )


def test_required_scanners_are_categories_or_tool_names(tmp_path: Path) -> None:
    categories = {"semgrep": {"sast"}, "gitleaks": {"secrets"}}
    strict = policy("required_scanners: [secrets, sca, trivy]\n", tmp_path)
    missing = missing_scanners(strict, ["Semgrep", "gitleaks"], lambda t: categories.get(t, ()))
    assert missing == ["sca", "trivy"]


def test_the_patch_gives_added_lines_per_new_path() -> None:
    patch = b"\n".join(
        [
            b"diff --git a/app.py b/app.py",
            b"--- a/app.py",
            b"+++ b/app.py",
            b"@@ -3,0 +4,2 @@ def f():",
            b"+x",
            b"+y",
            b"@@ -10 +12 @@",
            b"-old",
            b"+new",
            b"@@ -20,3 +21,0 @@",
            b"diff --git a/gone.py b/gone.py",
            b"--- a/gone.py",
            b"+++ /dev/null",
            b"@@ -1,2 +0,0 @@",
            b'+++ "b/caf\\303\\251 \\"x\\".py"',
            b"@@ -0,0 +1 @@",
        ]
    )
    assert parse_patch(patch) == {"app.py": {4, 5, 12}, 'café "x".py': {1}}
    changed = ChangedLines("main", {"app.py": {4}}, root="/src/repo")
    assert changed.touches("/src/repo/app.py", 4)
    assert changed.touches("./app.py", 4)
    assert changed.touches("file:///src/repo/app.py", None)
    assert not changed.touches("app.py", 5)
    assert not changed.touches("lib.py", 4)
    assert changed.touches(None, None)  # a package finding cannot be ruled out
    with pytest.raises(InputError):
        ChangedLines.from_json("main", {"app.py": ["4"]})


def result(**values: object) -> GateResult:
    item = GateItem(
        fingerprint="f" * 32,
        outcome="block",
        reason="new P0 finding",
        priority="P0",
        new=True,
        tool="osv",
        kind="dependency",
        rule_id="GHSA-xxxx",
        title="Prototype pollution",
        severity="critical",
        path="package-lock.json",
        line=None,
        package="lodash@4.17.15",
        fixed_version="4.17.21",
    )
    base: dict[str, object] = {
        "run": "abc",
        "result": "blocked",
        "service": "web",
        "branch": "feature",
        "commit": "4f2a9c1",
        "base_ref": None,
        "baseline": False,
        "tools": ["osv"],
        "missing_scanners": [],
        "missing_scanner_policy": "fail-closed",
        "findings": 1,
        "counts": {"block": 1, "warn": 0},
        "blocking": [item],
        "warnings": [],
        "block_priority": "P1",
        "policy_digest": "d",
        "summary_items": 30,
    }
    base.update(values)
    return GateResult(**base)  # type: ignore[arg-type]


def test_the_summary_says_what_blocks_why_and_how_to_unblock() -> None:
    text = markdown(result())
    assert text.startswith("## Shieldwall gate: blocked")
    assert "`lodash@4.17.15`, fixed in `4.17.21`" in text
    assert "upgrade to the fixed version" in text
    assert "shieldwall gate-override abc" in text
    passed = markdown(result(result="pass", blocking=[], counts={"block": 0, "warn": 0}))
    assert passed.startswith("## Shieldwall gate: passed")
    assert "How to unblock" not in passed


def test_junit_and_annotations_for_ci() -> None:
    text = junit(result())
    assert 'failures="2"' in text
    assert 'classname="shieldwall.osv"' in text
    [line] = list(github_annotations(result()))
    assert line.startswith("::error file=package-lock.json,title=P0 GHSA-xxxx::Prototype")
    missing = result(missing_scanners=["sast"], blocking=[], missing_scanner_policy="fail-open")
    assert list(github_annotations(missing)) == [
        "::warning title=Shieldwall gate::required scanners missing: sast"
    ]
