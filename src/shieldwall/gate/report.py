"""A gate result for people and CI: a Markdown summary fit for a pull-request comment,
JUnit XML for test-report viewers, and GitHub Actions workflow commands (annotations).

Every text in them comes from hostile reports: Markdown is escaped so a title cannot close
a table, inject a link or mention someone; workflow commands are escaped as GitHub
documents, so a title cannot start a command of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from xml.etree import ElementTree

from shieldwall.gate.schemas import GateItem, GateResult
from shieldwall.text import markdown_code, markdown_text

_MAX_CELL = 200


def markdown(result: GateResult) -> str:
    lines = [_headline(result), "", _scope(result), "", _tally(result)]
    if result.missing_scanners:
        action = "blocks" if result.missing_scanner_policy == "fail-closed" else "warns"
        lines += [
            "",
            f"**Required scanners missing** (the policy {action}): "
            + ", ".join(_code(name) for name in result.missing_scanners)
            + ". Run them and pass their reports to the gate.",
        ]
    if result.blocking:
        lines += ["", "### What blocks", "", *_table(result.blocking, result.summary_items)]
        more = result.counts.get("block", 0) - min(len(result.blocking), result.summary_items)
        if more > 0:
            lines += ["", f"…and {more} more (`--format json` lists them)."]
        lines += ["", "### How to unblock", "", *_advice(result)]
    if result.warnings and result.summary_items:
        lines += [
            "",
            "<details><summary>Warnings (do not block)</summary>",
            "",
            *_table(result.warnings, result.summary_items),
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def _headline(result: GateResult) -> str:
    if result.result == "blocked":
        return "## Shieldwall gate: blocked"
    return "## Shieldwall gate: passed"


def _scope(result: GateResult) -> str:
    parts = [f"service {_code(result.service)}" if result.service else "no service given"]
    if result.branch:
        parts.append(f"branch {_code(result.branch)}")
    if result.commit:
        parts.append(f"commit {_code(result.commit[:12])}")
    if result.base_ref:
        parts.append(f"only lines changed since {_code(result.base_ref)} count as new")
    if result.baseline:
        parts.append("findings in the baseline are not new")
    if result.run:
        parts.append(f"run {_code(result.run)}")
    return " · ".join(parts)


def _tally(result: GateResult) -> str:
    counts = result.counts
    words = [
        f"**{counts.get('block', 0)} blocking**",
        f"{counts.get('warn', 0)} warnings",
    ]
    words += [
        f"{counts[key]} {label}"
        for key, label in (
            ("excepted", "covered by exceptions"),
            ("triaged", "triaged as not a problem"),
            ("suppressed", "suppressed in the source"),
            ("ignored", "in ignored paths"),
            ("notice", "notices"),
        )
        if counts.get(key)
    ]
    tools = ", ".join(_text(tool) for tool in result.tools) or "no scanner"
    return (
        f"{' · '.join(words)}: {result.findings} findings from {tools}. "
        f"New findings block at {result.block_priority} and above."
    )


def _table(items: Sequence[GateItem], limit: int) -> list[str]:
    rows = ["| Priority | Finding | Where | Why |", "|---|---|---|---|"]
    for item in items[:limit]:
        finding = f"{_text(item.title)} ({_code(item.rule_id)}, {_text(item.tool)})"
        if item.preview:
            finding += f" {_code(item.preview)}"
        if item.package:
            fix = f", fixed in {_code(item.fixed_version)}" if item.fixed_version else ""
            finding += f" in {_code(item.package)}{fix}"
        rows.append(f"| {item.priority} | {finding} | {_where(item)} | {_text(item.reason)} |")
    return rows


def _where(item: GateItem) -> str:
    if not item.path:
        return "-"
    return _code(f"{item.path}:{item.line}" if item.line else item.path)


def _advice(result: GateResult) -> list[str]:
    kinds = {item.kind for item in result.blocking}
    service = result.service or "SERVICE"
    advice = []
    if "secret" in kinds:
        advice.append(
            "- **Secrets:** remove the secret from the code and rotate it at its provider: "
            "anyone who can read the repository or its history has it. A test value that is "
            "not a secret: mark its line `shieldwall:allow` (with a comment saying why), or add "
            "it to the scan's baseline (`shieldwall scan . --write-baseline FILE`)."
        )
    if kinds & {"dependency", "container"}:
        advice.append("- **Vulnerable packages:** upgrade to the fixed version shown.")
    if kinds - {"secret", "dependency", "container"}:
        advice.append(
            "- **Code and configuration:** fix it; if the finding is wrong, triage it: "
            '`shieldwall findings triage FINDING --status false_positive --reason "..."`.'
        )
    advice.append(
        "- **Accept the risk** for a while: request an exception, which stops blocking once "
        "approved: `shieldwall exception request --rule RULE --service "
        f'{_text(service)} --reason "..." --compensating-controls "..." --expires YYYY-MM-DD`.'
    )
    if result.run:
        advice.append(
            "- **Let this run through** (recorded, and counted as friction): "
            f'`shieldwall gate-override {result.run} --reason "..."`.'
        )
    return advice


def _text(value: object) -> str:
    return markdown_text(value, _MAX_CELL)


def _code(value: object) -> str:
    return markdown_code(value, _MAX_CELL)


def junit(result: GateResult) -> str:
    """One test case per blocking finding (failed) and one for the gate as a whole."""
    suite = ElementTree.Element(
        "testsuite",
        name="shieldwall-gate",
        tests=str(len(result.blocking) + 1),
        failures=str(len(result.blocking) + (1 if result.result == "blocked" else 0)),
    )
    gate_case = ElementTree.SubElement(
        suite, "testcase", classname="shieldwall.gate", name="policy"
    )
    if result.result == "blocked":
        failure = ElementTree.SubElement(
            gate_case, "failure", message=f"{result.counts.get('block', 0)} blocking"
        )
        failure.text = _plain_summary(result)
    for item in result.blocking:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"shieldwall.{item.tool}",
            name=f"{item.rule_id} {item.path or ''}:{item.line or ''}".strip(),
            file=item.path or "",
        )
        failure = ElementTree.SubElement(
            case, "failure", message=f"{item.priority} {item.title}"[:500], type=item.kind
        )
        failure.text = item.reason
    ElementTree.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        suite, encoding="unicode"
    )


def _plain_summary(result: GateResult) -> str:
    missing = ", ".join(result.missing_scanners)
    lines = [f"{result.counts.get('block', 0)} finding(s) block"]
    if missing:
        lines.append(f"required scanners missing: {missing}")
    return "\n".join(lines)


def github_annotations(result: GateResult) -> Iterator[str]:
    """``::error``/``::warning`` workflow commands: GitHub shows them on the changed
    files of the pull request."""
    for level, items in (("error", result.blocking), ("warning", result.warnings)):
        for item in items[: result.summary_items]:
            properties = [f"title={_property(f'{item.priority} {item.rule_id}')}"]
            if item.path:
                properties.insert(0, f"file={_property(item.path)}")
                if item.line:
                    properties.insert(1, f"line={item.line}")
            message = f"{item.title} ({item.tool}): {item.reason}"
            yield f"::{level} {','.join(properties)}::{_data(message)}"
    if result.missing_scanners:
        level = "error" if result.missing_scanner_policy == "fail-closed" else "warning"
        names = ", ".join(result.missing_scanners)
        yield f"::{level} title=Shieldwall gate::{_data('required scanners missing: ' + names)}"


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")
