"""Where ``shieldwall scan --upload`` sends its report: to the server named by
SHIELDWALL_SERVER_URL (with SHIELDWALL_TOKEN), as CI does, or, without one, into the local
store, as ``shieldwall import`` would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shieldwall.client import post
from shieldwall.config import Settings
from shieldwall.ingest.service import ImportRequest, import_report
from shieldwall.runtime import cli_actor, database


def upload(report: Path, service: str, branch: str, commit: str | None, settings: Settings) -> str:
    """Send the report; one line saying where it went and what became of it."""
    if settings.server_url:
        return _to_server(report, service, branch, commit, settings)
    request = ImportRequest(
        path=report, service=service, branch=branch, commit=commit, actor=cli_actor()
    )
    summary = import_report(database(), request, settings)
    counts = ", ".join(f"{value} {name}" for name, value in summary.counts().items())
    return f"imported into the local store as import {summary.id}: {counts}"


def _to_server(
    report: Path, service: str, branch: str, commit: str | None, settings: Settings
) -> str:
    data: dict[str, Any] = {"service": service, "branch": branch}
    if commit:
        data["commit"] = commit
    with report.open("rb") as content:
        answer = post(
            settings,
            "/api/v1/imports",
            what="the report",
            files={"file": (report.name, content, "application/json")},
            data=data,
            expect=202,
            timeout=120,
        )
    return f"uploaded to {settings.server_url}: import {answer.json().get('id')} queued"
