"""``shieldwall gate`` against a server (SHIELDWALL_SERVER_URL with SHIELDWALL_TOKEN): the
reports, baselines, policy file and changed lines go up, the server decides with its store
(the service's context, findings and exceptions) and records the run, the result comes back.
An ingest token, which CI has for uploads, is enough."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shieldwall.client import post
from shieldwall.config import Settings
from shieldwall.errors import InputError, ShieldwallError
from shieldwall.gate.schemas import GateResult
from shieldwall.gate.service import GateRequest

TIMEOUT = 600


def gate_on_server(request: GateRequest, policy: Path | None, settings: Settings) -> GateResult:
    if not request.service:
        raise InputError("--service is needed to gate on a server")
    data: dict[str, Any] = {"service": request.service, "branch": request.branch}
    if request.commit:
        data["commit"] = request.commit
    if request.changed is not None:
        data["base_ref"] = request.changed.base
        data["changed"] = json.dumps(request.changed.as_json())
    with ExitStack() as stack:
        files: list[tuple[str, tuple[str, Any, str]]] = []
        for field, paths in (
            ("reports", request.reports),
            ("baseline", request.baseline),
            ("policy", [policy] if policy else []),
        ):
            for path in paths:
                try:
                    content = stack.enter_context(path.open("rb"))
                except OSError as exc:
                    raise InputError.in_file(path, f"cannot read: {exc.strerror}") from None
                files.append((field, (path.name, content, "application/octet-stream")))
        answer = post(
            settings,
            "/api/v1/gate",
            what="the gate",
            files=files,
            data=data,
            expect=200,
            timeout=TIMEOUT,
        )
    try:
        return GateResult.model_validate(answer.json())
    except (ValueError, ValidationError):
        raise ShieldwallError(f"{settings.server_url} did not answer with a gate result") from None
