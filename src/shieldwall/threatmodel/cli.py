"""``shieldwall threatmodel ...``: check, report, diagram, diff, import and export models;
push, list and treat them in the store; the vocabularies."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from shieldwall.atomic import atomic_file
from shieldwall.clock import utcnow
from shieldwall.config import get_settings
from shieldwall.errors import EXIT_CHECK_FAILED, InputError
from shieldwall.ingest.service import check_request_fields
from shieldwall.output import FormatOption, OutputFormat, emit
from shieldwall.risk.policy import current_policy
from shieldwall.runtime import cli_actor, database
from shieldwall.structured import read_text
from shieldwall.threatmodel import diagram, report, store
from shieldwall.threatmodel import diff as model_diff
from shieldwall.threatmodel.controls import catalogue
from shieldwall.threatmodel.importers import IMPORTERS, dump_model, import_model
from shieldwall.threatmodel.model import MAX_MODEL_BYTES
from shieldwall.threatmodel.remote import push_to_server
from shieldwall.threatmodel.rules import load_rules
from shieldwall.threatmodel.schemas import ThreatModelSpec
from shieldwall.threatmodel.service import Analysis, analyse
from shieldwall.threatmodel.tmbom_export import export_tmbom
from shieldwall.threatmodel.tracking import load_tracking, tracking_path_for
from shieldwall.threatmodel.vocabulary import Level

app = typer.Typer(
    help="Threat models as code: check a model, report and diff its threats.",
    no_args_is_help=True,
)

ModelArgument = Annotated[Path, typer.Argument(help="The threat model YAML file.")]
TrackingOption = Annotated[
    Path | None,
    typer.Option(
        "--tracking", help="Treatments of threats (default: MODEL.tracking.yaml when it exists)."
    ),
]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="More rules: a YAML file or a folder of them. Repeatable."),
]
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write here instead of standard output.")
]

_THREAT_COLUMNS = [
    ("residual_risk", "risk"),
    ("status", "status"),
    ("title", "threat"),
    ("element_name", "where"),
    ("id", "id"),
]
_MAX_BASELINE_BYTES = 50_000_000


def _analyse(model: Path, tracking: Path | None, rules: list[Path] | None) -> Analysis:
    analysis = analyse(model, tracking, rules or (), utcnow().date())
    for stale in analysis.stale_treatments:
        _say(
            f"warning: {analysis.tracking.path if analysis.tracking else ''}: "
            f"{stale} matches no threat any more (remove it)"
        )
    return analysis


def _say(message: str) -> None:
    """A status line on standard error, never wrapped (CI logs are read by grep)."""
    typer.echo(message, err=True)


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
        return
    with atomic_file(out) as stream:
        stream.write(text)
    _say(f"wrote {out}")


@app.command("check")
def check_command(
    model: ModelArgument,
    tracking: TrackingOption = None,
    rules: RulesOption = None,
    gate: Annotated[
        bool,
        typer.Option("--gate", help="Exit 1 when a new open threat is at or above --threshold."),
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="The model before the change (YAML) or its `report --format json`: "
            "its threats are not new.",
        ),
    ] = None,
    threshold: Annotated[
        str,
        typer.Option(
            help="The least residual risk that fails --gate: low, medium, high, critical."
        ),
    ] = "high",
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Validate the model, generate its threats and list them by residual risk."""
    level = _level(threshold)
    if baseline is not None and not gate:
        raise InputError("--baseline is for --gate")
    analysis = _analyse(model, tracking, rules)
    emit(report.rows(analysis.threats), _THREAT_COLUMNS, fmt, title=analysis.model.spec.title)
    _say(f"{model}: {report.Review.of(analysis).verdict}")
    if not gate:
        return
    known = _baseline_ids(baseline, rules) if baseline is not None else set()
    blocking = [t for t in analysis.open_threats if t.residual.level >= level and t.id not in known]
    if blocking:
        new = "new " if baseline is not None else ""
        _say(
            f"gate failed: {len(blocking)} {new}open threat(s) at or above {level.word}: "
            + ", ".join(t.id for t in blocking[:10])
            + (" ..." if len(blocking) > 10 else "")
        )
        raise typer.Exit(EXIT_CHECK_FAILED)
    _say(f"gate passed: no new open threat at or above {level.word}")


def _level(word: str) -> Level:
    try:
        level = Level[word.upper()]
    except KeyError:
        level = Level.NONE
    if level is Level.NONE:
        raise InputError(f"--threshold {word!r}: use low, medium, high or critical")
    return level


def _baseline_ids(path: Path, rules: list[Path] | None) -> set[str]:
    """Threat ids of the baseline: a model, or a JSON report of one."""
    if path.suffix.lower() != ".json":
        return {t.id for t in analyse(path, None, rules or (), utcnow().date()).threats}
    try:
        document: Any = json.loads(read_text(path, _MAX_BASELINE_BYTES))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError.in_file(path, f"not valid JSON: {exc}") from None
    threats = document.get("threats") if isinstance(document, dict) else None
    if not isinstance(threats, list) or not all(
        isinstance(t, dict) and isinstance(t.get("id"), str) for t in threats
    ):
        raise InputError.in_file(
            path, 'not a threat model report: expected {"threats": [{"id": ...}]}'
        )
    return {t["id"] for t in threats}


@app.command("report")
def report_command(
    model: ModelArgument,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, html, json or sarif.")] = "md",
    out: OutOption = None,
    tracking: TrackingOption = None,
    rules: RulesOption = None,
) -> None:
    """A review of the model's threats: Markdown or HTML for design review, JSON for
    scripts, SARIF for code-scanning views."""
    if fmt not in report.FORMATS:
        raise InputError(f"--format {fmt!r}: use {', '.join(report.FORMATS)}")
    _write(report.render(_analyse(model, tracking, rules), fmt), out)


@app.command("diff")
def diff_command(
    old: Annotated[Path, typer.Argument(help="The model before.")],
    new: Annotated[Path, typer.Argument(help="The model after.")],
    tracking: TrackingOption = None,
    rules: RulesOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md or json.")] = "md",
) -> None:
    """Elements, flows, boundaries and data classes added, removed or changed, and what
    that does to the threats: added, resolved, changed, and acceptances to review again.
    The tracking file beside NEW applies to both versions."""
    if fmt not in ("md", "json"):
        raise InputError(f"--format {fmt!r}: use md or json")
    after = _analyse(new, tracking, rules)
    tracking_path = after.tracking.path if after.tracking else None
    before = analyse(old, tracking_path, rules or (), utcnow().date())
    result = model_diff.diff(before, after)
    if fmt == "json":
        typer.echo(json.dumps(model_diff.to_json(result), indent=2, ensure_ascii=False))
    else:
        typer.echo(model_diff.markdown(result, str(old), str(new)), nl=False)


@app.command("schema")
def schema_command(out: OutOption = None) -> None:
    """The JSON Schema of a threat model file (for editors and validators)."""
    _write(json.dumps(model_schema(), indent=2) + "\n", out)


def model_schema() -> dict[str, Any]:
    schema = ThreatModelSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Shieldwall threat model"
    return schema


@app.command("rules")
def rules_command(rules: RulesOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """The threat rules: built-in and any given with --rules."""
    rows = [
        {
            "id": rule.id,
            "applies_to": rule.spec.applies_to,
            "title": rule.spec.title,
            "categories": [str(c) for c in rule.spec.categories],
            "cwe_ids": [f"CWE-{n}" for n in rule.spec.cwe],
            "capec_ids": [f"CAPEC-{n}" for n in rule.spec.capec],
            "likelihood": rule.spec.likelihood,
            "impact": rule.spec.impact,
            "mitigations": rule.spec.mitigations,
            "source": rule.source,
        }
        for rule in load_rules(rules or ()).rules
    ]
    columns = [("id", "id"), ("applies_to", "applies to"), ("categories", "categories")]
    emit(rows, [*columns, ("title", "title")], fmt, title="Threat rules")


@app.command("controls")
def controls_command(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """The controls a model can say are in place, and what each implies."""
    rows = [
        {"id": c.id, "title": c.title, "implies": c.implies} for c in catalogue().controls.values()
    ]
    emit(rows, [("id", "id"), ("implies", "implies"), ("title", "title")], fmt, title="Controls")


@app.command("push")
def push_command(
    model: ModelArgument,
    service: Annotated[
        str | None,
        typer.Option("--service", "-s", help="The inventory service (default: the model's)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The model's name in the service (default: file name).")
    ] = None,
    tracking: TrackingOption = None,
    commit: Annotated[str | None, typer.Option(help="The commit (recorded).")] = None,
) -> None:
    """Store the model as the next version of the service's model, with its threats (and
    the treatments of its tracking file); on SHIELDWALL_SERVER_URL when set."""
    source = read_text(model, MAX_MODEL_BYTES)
    tracking_path = tracking or (
        tracking_path_for(model) if tracking_path_for(model).is_file() else None
    )
    treatments = load_tracking(tracking_path) if tracking_path else None
    check_request_fields("", commit)
    settings = get_settings()
    if settings.server_url:
        result = push_to_server(settings, model, source, tracking_path, service, name, commit)
    else:
        with database().write() as session:
            pushed = store.push(
                session,
                source=source,
                filename=str(model),
                service=service,
                name=name,
                actor=cli_actor(),
                tracking=treatments,
                commit=commit,
                policy=current_policy(settings.policy),
            )
        result = asdict(pushed)
    state = "unchanged, still" if result["unchanged"] else "stored as"
    _say(
        f"{result['service']}/{result['name']}: {state} version {result['version']} "
        f"(model {result['model']}); {result['summary'].get('open', 0)} open threats"
    )


@app.command("list")
def list_command(
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this service.")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Stored threat models: latest version, last review and open threats."""
    with database().read() as session:
        rows = store.model_rows(session, service=service)
    keys = (
        "id",
        "service",
        "name",
        "version",
        "reviewed",
        "open",
        "open_critical",
        "open_high",
        "accepted",
    )
    emit(rows, [(k, k.replace("_", " ")) for k in keys], fmt, title="Threat models")


@app.command("treat")
def treat_command(
    model_id: Annotated[str, typer.Argument(help="The stored model's id (`threatmodel list`).")],
    threat_id: Annotated[str, typer.Argument(help="The threat's id.")],
    status: Annotated[
        str, typer.Option(help="open, mitigated, accepted, transferred or not_applicable.")
    ],
    reason: Annotated[str | None, typer.Option(help="Why (required but for open).")] = None,
    owner: Annotated[
        str | None, typer.Option(help="Who owns an accepted risk (not you: you approve it).")
    ] = None,
    expires: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="When an acceptance ends.")
    ] = None,
    ticket: Annotated[str | None, typer.Option(help="A tracker reference.")] = None,
) -> None:
    """Decide how a stored threat is treated; you are the approver of an acceptance."""
    settings = get_settings()
    with database().write() as session:
        result = store.treat(
            session,
            model_id,
            threat_id,
            status=status,
            reason=reason,
            owner=owner,
            expires=expires.date() if expires else None,
            ticket=ticket,
            actor=cli_actor(),
            policy=current_policy(settings.policy),
        )
    _say(f"{threat_id}: {result['status']} (now {result['effective']})")


@app.command("coverage")
def coverage_command(
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="Reviewed within this many days.")
    ] = 90,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Threat-model coverage: tier-0 and tier-1 services with a model reviewed in the last
    N days (the model's `reviewed:` date)."""
    with database().read() as session:
        rows = store.coverage(session, days)
    keys = ("service", "tier", "state", "last_reviewed")
    emit(
        rows,
        [(k, k.replace("_", " ")) for k in keys],
        fmt,
        title=f"Threat-model coverage, {days} days",
    )
    if fmt is OutputFormat.TABLE:
        _say(f"{store.coverage_share(rows):.0%} of tier-0 and tier-1 services covered")


@app.command("threats")
def threats_command(
    model_id: Annotated[str, typer.Argument(help="The stored model's id (`threatmodel list`).")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """The threats of a stored model's latest version, with their treatment."""
    with database().read() as session:
        rows = [
            store.threat_view(t)
            for t in store.threats(session, store.find_model(session, model_id))
        ]
    emit(rows, _THREAT_COLUMNS, fmt, title="Threats")


@app.command("diagram")
def diagram_command(
    model: ModelArgument,
    fmt: Annotated[str, typer.Option("--format", "-f", help="mermaid, dot or svg.")] = "mermaid",
    out: OutOption = None,
    tracking: TrackingOption = None,
    rules: RulesOption = None,
) -> None:
    """The data-flow diagram: trust boundaries as clusters, flows with their protocol,
    unencrypted crossings marked, open high and critical threats counted per element. SVG
    is laid out by Graphviz when it is installed, else by Shieldwall's own layout."""
    if fmt not in ("mermaid", "dot", "svg"):
        raise InputError(f"--format {fmt!r}: use mermaid, dot or svg")
    analysis = _analyse(model, tracking, rules)
    render = {"mermaid": diagram.mermaid, "dot": diagram.dot, "svg": diagram.svg}[fmt]
    text = render(analysis)
    _write(text if text.endswith("\n") else text + "\n", out)


@app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="The model in another tool's format.")],
    tool: Annotated[str, typer.Option("--from", help=f"The format: {', '.join(IMPORTERS)}.")],
    out: OutOption = None,
) -> None:
    """Turn a Threagile, pytm (JSON), Threat Dragon v2 or TM-BOM model into a Shieldwall
    model; what could not be carried over is listed (on standard error, and at the top of
    the file) for the reviewer."""
    result = import_model(source, tool)
    _write(dump_model(result.spec, imported_from=result.origin, notes=result.notes), out)
    for note in result.notes:
        _say(f"note: {note}")


@app.command("export")
def export_command(
    model: ModelArgument,
    fmt: Annotated[str, typer.Option("--format", "-f", help="tmbom.")] = "tmbom",
    out: OutOption = None,
    tracking: TrackingOption = None,
    rules: RulesOption = None,
) -> None:
    """The model and its threats in another format: OWASP TM-BOM (threat model library
    schema 1.0.1) JSON."""
    if fmt != "tmbom":
        raise InputError(f"--format {fmt!r}: use tmbom")
    document = export_tmbom(_analyse(model, tracking, rules))
    _write(json.dumps(document, indent=2, ensure_ascii=False) + "\n", out)
