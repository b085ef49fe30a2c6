"""Opaque public identifiers.

Rows keep integer keys for joins; what users and URLs see is a random 12-character id (60
bits), so an id reveals neither how many rows exist nor when one was made.
"""

from __future__ import annotations

import base64
import secrets

UID_LENGTH = 12


def new_uid() -> str:
    # base32 of 60 random bits; lower case reads and types better in a terminal.
    return base64.b32encode(secrets.token_bytes(10))[:UID_LENGTH].decode("ascii").lower()
