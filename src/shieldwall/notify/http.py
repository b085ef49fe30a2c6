"""POSTing JSON, for the notifiers that call a web hook: the rules they share."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus

import httpx

from shieldwall import __version__
from shieldwall.notify import NotifyError

TIMEOUT = 10.0
"""Seconds to connect, and then between bytes: a hung receiver must not hold up reminders."""


def encode_json(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post_json(name: str, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> None:
    """POST ``body`` to ``url``; anything but a 2xx answer raises ``NotifyError``.

    Redirects are not followed: a redirect could carry the notice (and its signature) to a
    host the operator never named. Messages are built from the exception type, the operating
    system's reason and the status code only, because exception text and the answer's reason
    phrase can quote the URL, whose path is often the token.
    """
    try:
        response = httpx.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"shieldwall/{__version__}",
                **(headers or {}),
            },
            timeout=TIMEOUT,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        raise NotifyError(f"{name}: no answer within {TIMEOUT:g} s") from None
    except httpx.ConnectError as exc:
        raise NotifyError(f"{name}: could not connect{_os_reason(exc)}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise NotifyError(f"{name}: request failed ({type(exc).__name__})") from None
    if not response.is_success:
        redirect = " (redirects are not followed)" if response.is_redirect else ""
        raise NotifyError(f"{name}: answered {_status(response.status_code)}{redirect}")


def _status(code: int) -> str:
    try:
        return f"HTTP {code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _os_reason(exc: BaseException) -> str:
    """The operating system's reason ("Connection refused") from the OSError that httpx wraps,
    in parentheses; "" when there is none."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return f" ({cause.strerror})"
        cause = cause.__cause__ or cause.__context__
    return ""
