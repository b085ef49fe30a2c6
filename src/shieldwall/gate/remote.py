"""``shieldwall gate`` against a server (SHIELDWALL_SERVER_URL with SHIELDWALL_TOKEN): the
reports, baselines, policy file and changed lines go up, the server decides with its store
(the service's context, findings and exceptions) and records the run, the result comes back.
An ingest token, which CI has for uploads, is enough."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from shieldwall.config import Settings
from shieldwall.errors import InputError, ShieldwallError
from shieldwall.gate.schemas import GateResult
from shieldwall.gate.service import GateRequest

TIMEOUT = 600


def gate_on_server(request: GateRequest, policy: Path | None, settings: Settings) -> GateResult:
    if settings.token is None:
        raise InputError("SHIELDWALL_SERVER_URL is set but SHIELDWALL_TOKEN is not")
    if not request.service:
        raise InputError("--service is needed to gate on a server")
    url = settings.server_url.rstrip("/") + "/api/v1/gate"  # type: ignore[union-attr]
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
        try:
            answer = httpx.post(
                url,
                headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
                files=files,
                data=data,
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise ShieldwallError(f"cannot reach {settings.server_url}: {exc}") from None
    if answer.status_code != 200:
        raise ShieldwallError(
            f"the server refused the gate ({answer.status_code}): {_detail(answer)}"
        )
    try:
        return GateResult.model_validate(answer.json())
    except (ValueError, ValidationError):
        raise ShieldwallError(f"{url} did not answer with a gate result") from None


def _detail(answer: httpx.Response) -> str:
    try:
        body = answer.json()
        detail = body.get("detail") if isinstance(body, dict) else None
    except ValueError:
        detail = None
    text = str(detail) if detail else answer.text
    return (text.strip().splitlines() or [""])[0][:300]
