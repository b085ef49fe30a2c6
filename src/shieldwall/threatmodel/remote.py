"""``threatmodel push`` to a server (SHIELDWALL_SERVER_URL with SHIELDWALL_TOKEN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shieldwall.client import post
from shieldwall.config import Settings
from shieldwall.errors import ShieldwallError

TIMEOUT = 120.0


def push_to_server(
    settings: Settings,
    model: Path,
    source: str,
    tracking: Path | None,
    service: str | None,
    name: str | None,
    commit: str | None,
) -> dict[str, Any]:
    files: list[tuple[str, tuple[str, bytes, str]]] = [
        ("model", (model.name, source.encode(), "application/yaml"))
    ]
    if tracking is not None:
        files.append(("tracking", (tracking.name, tracking.read_bytes(), "application/yaml")))
    data = {k: v for k, v in {"service": service, "name": name, "commit": commit}.items() if v}
    answer = post(
        settings,
        "/api/v1/threat-models",
        what="the threat model",
        files=files,
        data=data,
        expect=201,
        timeout=TIMEOUT,
    )
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "version" not in body:
        raise ShieldwallError(f"{settings.server_url} did not answer with a stored model")
    return body
