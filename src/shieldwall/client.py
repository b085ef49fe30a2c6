"""The Shieldwall server as commands reach it (SHIELDWALL_SERVER_URL with SHIELDWALL_TOKEN):
``scan --upload`` sends reports there, ``gate`` has it decide. One place for the token, the
connection and the one-line refusal."""

from __future__ import annotations

from typing import Any

import httpx

from shieldwall.config import Settings
from shieldwall.errors import InputError, ShieldwallError


def post(
    settings: Settings,
    path: str,
    *,
    what: str,
    files: Any,
    data: dict[str, Any],
    expect: int,
    timeout: float,
) -> httpx.Response:
    """POST to the server's ``path``; anything but ``expect`` is an error naming ``what``
    was refused and the server's reason."""
    if settings.server_url is None:
        raise InputError("SHIELDWALL_SERVER_URL is not set")
    if settings.token is None:
        raise InputError("SHIELDWALL_SERVER_URL is set but SHIELDWALL_TOKEN is not")
    try:
        answer = httpx.post(
            settings.server_url.rstrip("/") + path,
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}"},
            files=files,
            data=data,
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise ShieldwallError(f"cannot reach {settings.server_url}: {exc}") from None
    if answer.status_code != expect:
        raise ShieldwallError(
            f"the server refused {what} ({answer.status_code}): {_reason(answer)}"
        )
    return answer


def _reason(answer: httpx.Response) -> str:
    """The API's ``detail``, else the first line of the body."""
    try:
        body = answer.json()
        detail = body.get("detail") if isinstance(body, dict) else None
    except ValueError:
        detail = None
    text = str(detail) if detail else answer.text
    return (text.strip().splitlines() or [""])[0][:300]
