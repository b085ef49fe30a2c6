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


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def bech32(secret: str) -> bool:
    """A Bech32 string (BIP 173) whose checksum holds: age's secret keys
    (AGE-SECRET-KEY-1...). One changed character breaks it."""
    lowered = secret.lower()
    hrp, separator, data = lowered.rpartition("1")
    if not hrp or not separator or len(data) < 6 or any(c not in _BECH32 for c in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    values += [_BECH32.index(c) for c in data]
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_BECH32_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum == 1


_STAND_IN_PASSWORDS = frozenset(
    ("password", "passwd", "pass", "secret", "changeme", "pwd", "test", "admin", "x", "***")
)


def basic_credentials(secret: str) -> bool:
    """Base64 of ``user:password`` (HTTP Basic, Docker's config.json): printable text with a
    colon, a user and a password that is not a stand-in word ("user:password")."""
    try:
        text = base64.b64decode(secret, validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    user, colon, password = text.partition(":")
    return (
        bool(colon and user and password)
        and text.isprintable()
        and password.lower() not in _STAND_IN_PASSWORDS
    )


def _crc24(data: bytes) -> int:
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def pgp_armor(secret: str) -> bool:
    """An ASCII-armoured PGP block (RFC 9580): base64 of some length after the armour
    headers and, when the block carries one, a CRC-24 checksum line that matches."""
    lines = [line.strip() for line in secret.replace("\\n", "\n").splitlines()]
    body = [line for line in lines if line and "-----" not in line and ":" not in line]
    checksum = None
    if body and body[-1].startswith("=") and len(body[-1]) == 5:
        checksum = body.pop()[1:]
    joined = "".join(body)
    if len(joined) < 64:
        return False
    try:
        data = base64.b64decode(joined, validate=True)
        if checksum is None:
            return True
        expected = int.from_bytes(base64.b64decode(checksum, validate=True), "big")
    except (ValueError, binascii.Error):
        return False
    return _crc24(data) == expected


def discord_bot_token(secret: str) -> bool:
    """A Discord bot token: its first part is base64 of the bot's numeric user id."""
    first = secret.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return decoded.isdigit() and 15 <= len(decoded) <= 21


def pem_escaped(secret: str) -> bool:
    """A PEM private key on one line with escaped newlines (a JSON or YAML string: a GCP
    service account's private_key) whose body checks out."""
    return pem_body(secret.replace("\\r", "").replace("\\n", "\n"))


def base64_pem(secret: str) -> bool:
    """Base64 of a PEM private key (a kubeconfig's client-key-data) whose body checks out."""
    try:
        text = base64.b64decode(secret, validate=True).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return "PRIVATE KEY-----" in text and pem_body(text)


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "crc32-base62": crc32_base62,
    "jwt": jwt,
    "pem-body": pem_body,
    "bech32": bech32,
    "basic-credentials": basic_credentials,
    "pgp-armor": pgp_armor,
    "discord-bot-token": discord_bot_token,
    "base64-pem": base64_pem,
    "pem-escaped": pem_escaped,
}
