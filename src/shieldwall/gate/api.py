"""``/api/v1/gate``: decide on uploaded reports for one of the caller's services, record the
run; list runs, override a block, and read pipeline friction."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.auth.policy import Action, Principal
from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.errors import InputError, NotFoundError
from shieldwall.gate.diff import ChangedLines
from shieldwall.gate.models import GateRun
from shieldwall.gate.policy import load_gate_policy
from shieldwall.gate.schemas import GateResult
from shieldwall.gate.service import GateRequest, friction, override, run_gate, run_rows
from shieldwall.ingest.service import check_request_fields
from shieldwall.inventory.models import Service
from shieldwall.risk.policy import current_policy
from shieldwall.web.deps import API_PREFIX, app_settings, database, reading, require

router = APIRouter(prefix=API_PREFIX, tags=["gate"])
Importer = Annotated[Principal, Depends(require(Action.IMPORT))]
Reader = Annotated[Principal, Depends(require(Action.READ))]
Triager = Annotated[Principal, Depends(require(Action.TRIAGE))]
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FILES = 50


@router.post("/gate", response_model=GateResult)
def create_gate_run(
    caller: Importer,
    db: Annotated[Database, Depends(database)],
    settings: Annotated[Settings, Depends(app_settings)],
    reports: Annotated[list[UploadFile], File(description="The reports to judge.")],
    service: Annotated[str, Form(max_length=100)],
    branch: Annotated[str, Form(max_length=255)] = "",
    commit: Annotated[str | None, Form(max_length=64)] = None,
    baseline: Annotated[list[UploadFile] | None, File(description="Earlier reports.")] = None,
    policy: Annotated[UploadFile | None, File(description="A gate policy YAML.")] = None,
    base_ref: Annotated[str | None, Form(max_length=255)] = None,
    changed: Annotated[str | None, Form(description="JSON: path -> changed line numbers.")] = None,
) -> GateResult:
    """Judge the reports for one of the caller's services, with its context, findings and
    exceptions; the run is recorded. 200 with `result` `pass` or `blocked`. The policy is the
    uploaded file laid over the defaults, else the server's (SHIELDWALL_GATE_POLICY); each
    run records the digest of the policy that decided it."""
    if len(reports) + len(baseline or []) > MAX_FILES:
        raise InputError(f"at most {MAX_FILES} files per gate run")
    check_request_fields(branch, commit)
    with db.read() as session:
        visible = session.scalar(
            select(Service.id).where(Service.name == service, caller.team_filter(Service.team_id))
        )
    if visible is None:
        raise NotFoundError(f"service {service!r} is not in the inventory")
    diff = None
    if changed is not None:
        if not base_ref:
            raise InputError("changed lines need base_ref")
        diff = ChangedLines.from_json(base_ref, _json(changed))
    with tempfile.TemporaryDirectory(prefix="shieldwall-gate-") as folder:
        saved = _save(Path(folder), "report", reports)
        saved_baseline = _save(Path(folder), "baseline", baseline or [])
        policy_path = _save(Path(folder), "policy", [policy])[0] if policy else None
        request = GateRequest(
            reports=saved,
            service=service,
            branch=branch.strip(),
            commit=commit.strip() or None if commit else None,
            baseline=saved_baseline,
            changed=diff,
            actor=caller.actor,
        )
        gate_policy = load_gate_policy(policy_path or settings.gate_policy)
        return run_gate(db, request, gate_policy, current_policy(settings.policy), settings)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise InputError("changed is not JSON") from None


def _save(folder: Path, role: str, uploads: list[UploadFile]) -> list[Path]:
    paths = []
    for index, upload in enumerate(uploads):
        name = _UNSAFE.sub("_", Path(upload.filename or role).name)[:100] or role
        path = folder / f"{role}-{index}-{name}"
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        paths.append(path)
    return paths


@router.get("/gate/runs")
def list_gate_runs(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    service: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The caller's teams' gate runs, newest first."""
    return run_rows(session, service=service, limit=limit, caller=caller)


@router.post("/gate/runs/{run_id}/override")
def override_gate_run(
    run_id: str,
    caller: Triager,
    db: Annotated[Database, Depends(database)],
    reason: Annotated[str, Form(max_length=2000)],
) -> dict[str, Any]:
    """Record that a blocked run was let through, by whom and why."""
    with db.write() as session:
        found = session.scalar(
            select(GateRun)
            .join(Service, GateRun.service_id == Service.id)
            .where(GateRun.uid == run_id, caller.team_filter(Service.team_id))
        )
        if found is None:
            raise HTTPException(404, "no such gate run")
        run = override(session, run_id, caller.actor, reason)
        return {"run": run.uid, "overridden_by": run.overridden_by, "reason": run.override_reason}


@router.get("/gate/friction")
def gate_friction(
    caller: Reader,
    session: Annotated[Session, Depends(reading)],
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
) -> list[dict[str, Any]]:
    """Pipeline friction per service over the last `days`."""
    return friction(session, days=days, caller=caller)
