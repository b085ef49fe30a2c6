"""Offline checks of a secret's format, where a provider built one in: a match that fails
its check is not that provider's secret (a made-up example, a truncated copy); one that
passes is almost surely real. Nothing here contacts the provider."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def crc32_base62(secret: str) -> bool:
    """GitHub's (ghp_, gho_, ghu_, ghs_, ghr_) and npm's (npm_) tokens: the last six
    characters are the base62 CRC-32 of the random part before them."""
    body = secret.rsplit("_", 1)[-1]
    if len(body) <= 6:
        return False
    data, checksum = body[:-6], body[-6:]
    return base62(zlib.crc32(data.encode()), 6) == checksum


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def jwt(secret: str) -> bool:
    """A JSON Web Token: a base64url JSON header naming its algorithm and a JSON payload
    (a lookalike of three dotted base64 strings is not one)."""
    parts = secret.split(".")
    if len(parts) != 3:
        return False
    try:
        header, payload = _b64url_json(parts[0]), _b64url_json(parts[1])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header and isinstance(payload, dict)


def pem_body(secret: str) -> bool:
    """A PEM private key whose body is base64 of some length (not "..." or a placeholder)."""
    lines = [line.strip() for line in secret.splitlines() if line.strip() and "-----" not in line]
    lines = [line for line in lines if ":" not in line]  # Proc-Type/DEK-Info headers
    body = "".join(lines).replace("\\n", "")
    if len(body) < 64:
        return False
    try:
        base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error):
        return False
    return True


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "crc32-base62": crc32_base62,
    "jwt": jwt,
    "pem-body": pem_body,
}
