"""Opaque public identifiers.

Rows keep integer keys for joins; what users and URLs see is a random 16-character id (64
bits, hexadecimal), so an id reveals neither how many rows exist nor when one was made.
"""

from __future__ import annotations

import secrets

UID_LENGTH = 16


def new_uid() -> str:
    return secrets.token_hex(UID_LENGTH // 2)
