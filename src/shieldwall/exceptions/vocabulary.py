from __future__ import annotations

from enum import StrEnum


class ExceptionState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    """Approved once; its date has passed and what it covered is open again."""
    REVOKED = "revoked"
    """Withdrawn by the requester, or ended early by an approver."""
