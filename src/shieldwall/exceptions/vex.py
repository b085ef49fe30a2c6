"""VEX out: a service's not-affected and accepted vulnerability findings as OpenVEX or
CycloneDX, so that the tools downstream (Dependency-Track, scanners that read VEX) stop
flagging what has been assessed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shieldwall.clock import utcnow
from shieldwall.errors import NotFoundError
from shieldwall.exceptions.models import RiskException
from shieldwall.findings.models import Finding
from shieldwall.findings.vocabulary import Status
from shieldwall.ingest.normalize import canonical_vulnerability_id
from shieldwall.intel.vex import (
    AFFECTED,
    NOT_AFFECTED,
    VexStatement,
    cyclonedx_vex_document,
    openvex_document,
)
from shieldwall.inventory.models import Service


def vex_export(session: Session, service_name: str, fmt: str) -> dict[str, object]:
    service = session.scalars(select(Service).where(Service.name == service_name)).one_or_none()
    if service is None:
        raise NotFoundError(f"service {service_name!r} is not in the inventory")
    rows = session.execute(
        select(Finding, RiskException)
        .outerjoin(RiskException, RiskException.id == Finding.exception_id)
        .where(
            Finding.service_id == service.id,
            Finding.status.in_([Status.NOT_AFFECTED.value, Status.ACCEPTED.value]),
        )
        .order_by(Finding.id)
    ).all()
    statements = [
        _statement(finding, exception) for finding, exception in rows if finding.vulnerability_ids
    ]
    now = utcnow()
    if fmt == "openvex":
        return openvex_document(
            statements,
            author="Shieldwall",
            product=service.repository or service.name,
            document_id=f"urn:uuid:{uuid.uuid4()}",
            timestamp=now,
        )
    return cyclonedx_vex_document(
        statements, product=service.name, serial=str(uuid.uuid4()), timestamp=now
    )


def _statement(finding: Finding, exception: RiskException | None) -> VexStatement:
    ids = list(finding.vulnerability_ids)
    canonical = canonical_vulnerability_id(ids)
    common: dict[str, Any] = {
        "vulnerability_id": canonical,
        "aliases": tuple(i for i in ids if i != canonical),
        "product_purl": finding.component_purl,
        "component_name": finding.component_name,
        "component_version": finding.component_version,
        "timestamp": finding.status_at,
    }
    if finding.status == Status.NOT_AFFECTED:
        return VexStatement(
            **common,
            status=NOT_AFFECTED,
            justification=None,
            impact_statement=finding.status_reason or "assessed as not affected",
            action_statement=None,
        )
    until = exception.expires_at.date().isoformat() if exception else "its expiry"
    action = f"Risk accepted until {until}"
    if exception is not None:
        action += (
            f" (exception {exception.uid}, approved by {exception.decided_by}): "
            f"{exception.reason}; compensating controls: {exception.compensating_controls}"
        )
    return VexStatement(
        **common,
        status=AFFECTED,
        justification=None,
        impact_statement=None,
        action_statement=action,
    )
