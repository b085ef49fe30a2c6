"""The fixed words inventory files use; later domains (risk, threat models) share them."""

from __future__ import annotations

from enum import StrEnum


class Exposure(StrEnum):
    INTERNET = "internet"
    PARTNER = "partner"
    INTERNAL = "internal"


class DataClass(StrEnum):
    PII = "pii"
    CREDENTIALS = "credentials"
    PAYMENT = "payment"
    HEALTH = "health"
    SECRETS = "secrets"
    PUBLIC = "public"


class Lifecycle(StrEnum):
    PLANNED = "planned"
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


TIERS = (0, 1, 2)
"""0 is the most critical (revenue or safety), 2 the least."""
