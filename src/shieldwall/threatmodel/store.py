"""Threat models in the store: push a version, treat a threat, list, diff versions,
coverage, and what other domains read (open threats by CWE for the risk engine, accepted
threats for the exception list).

Treatments live in the store once a model is pushed: a tracking file pushed with the model
is applied over them (decided by the pusher), and ``treat`` changes one. The threats of the
latest version are kept with their treatment applied, so pages and links read rows rather
than re-running the rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shieldwall.audit.service import record
from shieldwall.auth.policy import Principal
from shieldwall.clock import isoformat, utcnow
from shieldwall.errors import InputError, NotFoundError
from shieldwall.findings.models import Finding
from shieldwall.ids import new_uid
from shieldwall.inventory.models import Service
from shieldwall.risk.policy import Policy
from shieldwall.risk.service import reprioritize
from shieldwall.structured import validation_problems
from shieldwall.threatmodel.diff import ModelDiff, diff
from shieldwall.threatmodel.model import LoadedModel, parse_model
from shieldwall.threatmodel.models import (
    StoredThreat,
    ThreatModel,
    ThreatModelVersion,
    ThreatTreatment,
)
from shieldwall.threatmodel.report import counts
from shieldwall.threatmodel.rules import builtin_rules
from shieldwall.threatmodel.service import Analysis, analyse_loaded
from shieldwall.threatmodel.tracking import Tracking, TreatmentSpec
from shieldwall.threatmodel.vocabulary import ThreatStatus

MAX_SOURCE_BYTES = 5_000_000
TREATMENT_FIELDS = ("status", "reason", "owner", "approver", "expires", "ticket")


@dataclass(frozen=True)
class PushResult:
    model: str
    service: str
    name: str
    version: int
    unchanged: bool
    summary: dict[str, int]


def _service(session: Session, name: str, caller: Principal | None) -> Service:
    query = select(Service).where(Service.name == name)
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    service = session.scalar(query)
    if service is None:
        raise NotFoundError(f"service {name!r} is not in the inventory")
    return service


def _tracking(session: Session, model: ThreatModel | None) -> Tracking:
    if model is None:
        return Tracking({})
    rows = session.scalars(select(ThreatTreatment).where(ThreatTreatment.model_id == model.id))
    return Tracking(
        {
            row.threat_id: TreatmentSpec.model_validate(
                {k: getattr(row, k) for k in TREATMENT_FIELDS}
            )
            for row in rows
        }
    )


def _analyse(session: Session, model: ThreatModel | None, loaded: LoadedModel) -> Analysis:
    return analyse_loaded(loaded, builtin_rules(), _tracking(session, model), utcnow().date())


def _stored(model: ThreatModel, source: str) -> LoadedModel:
    """A stored version's model (it was valid when pushed)."""
    return parse_model(Path(f"{model.name}.yaml"), source, builtin_rules().ids)


def push(
    session: Session,
    *,
    source: str,
    filename: str,
    service: str | None,
    name: str | None,
    actor: str,
    tracking: Tracking | None = None,
    commit: str | None = None,
    caller: Principal | None = None,
    policy: Policy | None = None,
) -> PushResult:
    """Store the model ``source`` (YAML) as the next version of the service's model
    ``name`` (default: the file name without extension). The service is ``service``, else
    the model's own ``service:``. Nothing is stored when the model is invalid."""
    if len(source.encode()) > MAX_SOURCE_BYTES:
        raise InputError.in_file(filename, f"above the limit of {MAX_SOURCE_BYTES} bytes")
    # Read and check the model before anything is written; its threats come once the
    # store's treatments are known.
    loaded = parse_model(Path(filename), source, builtin_rules().ids)
    declared = loaded.spec.service
    if service and declared and service != declared:
        raise InputError.in_file(
            filename, f"the model says service {declared!r}, the command says {service!r}"
        )
    service_name = service or declared
    if not service_name:
        raise InputError.in_file(filename, "no service: give --service or `service:` in the model")
    target = _service(session, service_name, caller)
    model_name = (name or Path(filename).stem).strip()[:200] or "model"
    model = session.scalar(
        select(ThreatModel).where(
            ThreatModel.service_id == target.id, ThreatModel.name == model_name
        )
    )
    now = utcnow()
    if model is None:
        model = ThreatModel(uid=new_uid(), service_id=target.id, name=model_name, created_at=now)
        session.add(model)
        session.flush()
    if tracking is not None:
        for threat_id, treatment in tracking.treatments.items():
            _store_treatment(session, model, threat_id, treatment, actor, now)
    digest = hashlib.sha256(source.encode()).hexdigest()
    latest = _latest(session, model)
    analysis = _analyse(session, model, loaded)
    unchanged = latest is not None and latest.digest == digest
    if unchanged:
        assert latest is not None
        version = latest
    else:
        version = ThreatModelVersion(
            model_id=model.id,
            version=(latest.version + 1) if latest else 1,
            title=analysis.model.spec.title,
            source=source,
            digest=digest,
            reviewed=analysis.model.spec.reviewed,
            summary=counts(analysis.threats),
            pushed_by=actor,
            pushed_at=now,
            commit=commit,
        )
        session.add(version)
    _replace_threats(session, model, analysis)
    record(
        session,
        actor=actor,
        action="threat_model.push",
        entity_type="threat_model",
        entity_id=model.uid,
        after={"service": target.name, "name": model.name, "version": version.version},
    )
    if policy is not None:
        _reprioritise(session, policy, target.id)
    return PushResult(
        model.uid, target.name, model.name, version.version, unchanged, counts(analysis.threats)
    )


def _latest(session: Session, model: ThreatModel) -> ThreatModelVersion | None:
    return session.scalar(
        select(ThreatModelVersion)
        .where(ThreatModelVersion.model_id == model.id)
        .order_by(ThreatModelVersion.version.desc())
        .limit(1)
    )


def _store_treatment(
    session: Session,
    model: ThreatModel,
    threat_id: str,
    treatment: TreatmentSpec,
    actor: str,
    now: dt.datetime,
) -> None:
    row = session.get(ThreatTreatment, (model.id, threat_id))
    if row is None:
        row = ThreatTreatment(model_id=model.id, threat_id=threat_id)
        session.add(row)
    for key in TREATMENT_FIELDS:
        setattr(row, key, getattr(treatment, key))
    row.decided_by = actor
    row.decided_at = now


def _replace_threats(session: Session, model: ThreatModel, analysis: Analysis) -> None:
    session.execute(delete(StoredThreat).where(StoredThreat.model_id == model.id))
    session.add_all(
        StoredThreat(
            model_id=model.id,
            service_id=model.service_id,
            threat_id=t.id,
            rule_id=t.rule.id,
            title=t.rule.spec.title,
            element=t.element.path,
            element_name=t.element.title[:500],
            categories=t.categories,
            cwe_ids=t.cwe_ids,
            capec_ids=t.capec_ids,
            inherent_risk=t.inherent.level.word,
            residual_risk=t.residual.level.word,
            residual_score=t.residual.score,
            status=str(t.status),
            status_note=t.status_note,
            missing_controls=t.missing_controls,
            description=t.description,
        )
        for t in analysis.threats
    )


def _reprioritise(session: Session, policy: Policy, service_id: int) -> None:
    """Open threats raise the priority of findings with the same CWE: re-assess them."""
    reprioritize(session, policy, condition=Finding.service_id == service_id)


def find_model(session: Session, uid: str, caller: Principal | None = None) -> ThreatModel:
    query = select(ThreatModel).join(Service).where(ThreatModel.uid == uid)
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    model = session.scalar(query)
    if model is None:
        raise NotFoundError(f"no threat model {uid!r}")
    return model


def treat(
    session: Session,
    uid: str,
    threat_id: str,
    *,
    status: str,
    reason: str | None,
    owner: str | None,
    expires: dt.date | None,
    ticket: str | None,
    actor: str,
    caller: Principal | None = None,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """Record how a threat of the latest version is treated. The actor decides: for an
    acceptance, the actor is the approver and must not be the owner."""
    model = find_model(session, uid, caller)
    if (
        session.scalar(
            select(StoredThreat.id).where(
                StoredThreat.model_id == model.id, StoredThreat.threat_id == threat_id
            )
        )
        is None
    ):
        raise NotFoundError(f"no threat {threat_id!r} in the latest version of this model")
    try:
        treatment = TreatmentSpec(
            status=status,
            reason=reason,
            owner=owner,
            approver=person(actor) if status == ThreatStatus.ACCEPTED else None,
            expires=expires,
            decided=utcnow().date(),
            ticket=ticket,
        )
    except ValidationError as exc:
        raise InputError("; ".join(problem for _, problem in validation_problems(exc))) from None
    if treatment.expires is not None and treatment.expires <= utcnow().date():
        raise InputError("expires must be in the future")
    before = session.get(ThreatTreatment, (model.id, threat_id))
    old = {k: _plain(getattr(before, k)) for k in TREATMENT_FIELDS} if before else None
    _store_treatment(session, model, threat_id, treatment, actor, utcnow())
    latest = _latest(session, model)
    assert latest is not None
    session.flush()
    analysis = _analyse(session, model, _stored(model, latest.source))
    _replace_threats(session, model, analysis)
    after = {k: _plain(getattr(treatment, k)) for k in TREATMENT_FIELDS}
    record(
        session,
        actor=actor,
        action="threat.treat",
        entity_type="threat",
        entity_id=f"{model.uid}/{threat_id}",
        before=old,
        after=after,
    )
    if policy is not None:
        _reprioritise(session, policy, model.service_id)
    threat = next(t for t in analysis.threats if t.id == threat_id)
    return {
        "model": model.uid,
        "threat": threat_id,
        **after,
        "effective": str(threat.status),
    }


def person(actor: str) -> str:
    """The person behind an audit actor: ``user:a@example.com`` is ``a@example.com``, so
    that an approver is compared with an owner as the same kind of name."""
    return actor.removeprefix("user:")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def model_rows(
    session: Session,
    caller: Principal | None = None,
    service: str | None = None,
    model_uid: str | None = None,
) -> list[dict[str, Any]]:
    latest = (
        select(ThreatModelVersion.model_id, func.max(ThreatModelVersion.version).label("v"))
        .group_by(ThreatModelVersion.model_id)
        .subquery()
    )
    query = (
        select(ThreatModel, Service.name, ThreatModelVersion)
        .join(Service, Service.id == ThreatModel.service_id)
        .join(latest, latest.c.model_id == ThreatModel.id)
        .join(
            ThreatModelVersion,
            (ThreatModelVersion.model_id == ThreatModel.id)
            & (ThreatModelVersion.version == latest.c.v),
        )
        .order_by(Service.name, ThreatModel.name)
    )
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    if service is not None:
        query = query.where(Service.name == service)
    if model_uid is not None:
        query = query.where(ThreatModel.uid == model_uid)
    found = list(session.execute(query))
    tallies = _tallies(session, [model.id for model, _, _ in found])
    rows = []
    for model, service_name, version in found:
        summary = tallies.get(model.id, {})
        rows.append(
            {
                "id": model.uid,
                "service": service_name,
                "name": model.name,
                "title": version.title,
                "version": version.version,
                "reviewed": version.reviewed.isoformat() if version.reviewed else None,
                "pushed_at": isoformat(version.pushed_at),
                "pushed_by": version.pushed_by,
                "open": summary.get("open", 0),
                "open_critical": summary.get("open_critical", 0),
                "open_high": summary.get("open_high", 0),
                "accepted": summary.get("accepted", 0),
                "mitigated": summary.get("mitigated", 0),
            }
        )
    return rows


def _tallies(session: Session, model_ids: list[int]) -> dict[int, dict[str, int]]:
    """Threats of each model's latest version by status, and open ones by residual risk
    (as ``report.counts``), from the stored threats: treatments since the push count."""
    tallies: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(StoredThreat.model_id, StoredThreat.status, StoredThreat.residual_risk, func.count())
        .where(StoredThreat.model_id.in_(model_ids))
        .group_by(StoredThreat.model_id, StoredThreat.status, StoredThreat.residual_risk)
    )
    for model_id, status, risk, number in rows:
        tally = tallies.setdefault(model_id, {})
        tally[status] = tally.get(status, 0) + number
        if status == ThreatStatus.OPEN.value:
            tally[f"open_{risk}"] = tally.get(f"open_{risk}", 0) + number
    return tallies


def versions(session: Session, model: ThreatModel) -> list[ThreatModelVersion]:
    return list(
        session.scalars(
            select(ThreatModelVersion)
            .where(ThreatModelVersion.model_id == model.id)
            .order_by(ThreatModelVersion.version.desc())
        )
    )


def threat_view(threat: StoredThreat) -> dict[str, Any]:
    return {
        "id": threat.threat_id,
        "rule_id": threat.rule_id,
        "title": threat.title,
        "element": threat.element,
        "element_name": threat.element_name,
        "categories": threat.categories,
        "cwe_ids": threat.cwe_ids,
        "capec_ids": threat.capec_ids,
        "inherent_risk": threat.inherent_risk,
        "residual_risk": threat.residual_risk,
        "status": threat.status,
        "status_note": threat.status_note,
        "missing_controls": threat.missing_controls,
        "description": threat.description,
    }


def version_view(version: ThreatModelVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "title": version.title,
        "reviewed": version.reviewed.isoformat() if version.reviewed else None,
        "pushed_by": version.pushed_by,
        "pushed_at": isoformat(version.pushed_at),
        "commit": version.commit,
        "digest": version.digest,
        **version.summary,
    }


def version_of(session: Session, model: ThreatModel, number: int | None) -> ThreatModelVersion:
    query = select(ThreatModelVersion).where(ThreatModelVersion.model_id == model.id)
    if number is None:
        found = _latest(session, model)
    else:
        found = session.scalar(query.where(ThreatModelVersion.version == number))
    if found is None:
        raise NotFoundError(f"no version {number} of this model")
    return found


def analysis_of(session: Session, model: ThreatModel, number: int | None = None) -> Analysis:
    version = version_of(session, model, number)
    return _analyse(session, model, _stored(model, version.source))


def diff_versions(session: Session, model: ThreatModel, old: int, new: int) -> ModelDiff:
    return diff(analysis_of(session, model, old), analysis_of(session, model, new))


def threats(session: Session, model: ThreatModel) -> list[StoredThreat]:
    return list(
        session.scalars(
            select(StoredThreat)
            .where(StoredThreat.model_id == model.id)
            .order_by(
                (StoredThreat.status != ThreatStatus.OPEN.value),
                StoredThreat.residual_score.desc(),
                StoredThreat.threat_id,
            )
        )
    )


def accepted_threat_rows(
    session: Session, caller: Principal | None = None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Accepted threats as rows of the exception list (``kind`` ``threat``)."""
    now = now or utcnow()
    query = (
        select(ThreatTreatment, ThreatModel.uid, Service.name)
        .join(ThreatModel, ThreatModel.id == ThreatTreatment.model_id)
        .join(Service, Service.id == ThreatModel.service_id)
        .where(ThreatTreatment.status == ThreatStatus.ACCEPTED.value)
        .order_by(ThreatTreatment.decided_at.desc())
    )
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    rows = []
    for treatment, model_uid, service in session.execute(query):
        expires = (
            dt.datetime.combine(treatment.expires, dt.time(), tzinfo=dt.UTC)
            if treatment.expires
            else None
        )
        active = expires is not None and expires > now
        rows.append(
            {
                "id": f"{model_uid}/{treatment.threat_id}",
                "kind": "threat",
                "state": "approved" if active else "expired",
                "service": service,
                "finding_id": None,
                "rule_id": treatment.threat_id.split(":", 1)[0],
                "priority": None,
                "reason": treatment.reason,
                "compensating_controls": None,
                "expires_at": isoformat(expires),
                "days_left": max(0, (expires - now).days) if active and expires else None,
                "age_days": (now - treatment.decided_at).days,
                "requested_by": treatment.owner,
                "requested_at": isoformat(treatment.decided_at),
                "decided_by": treatment.approver,
                "decided_at": isoformat(treatment.decided_at),
                "decision_note": f"threat {treatment.threat_id} accepted in the threat model",
            }
        )
    return rows


def coverage(
    session: Session, days: int, caller: Principal | None = None, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Tier-0 and tier-1 services, and whether each has a model reviewed in the last
    ``days`` days (the ``reviewed`` date the model states: a push is not a review)."""
    today = today or utcnow().date()
    since = today - dt.timedelta(days=days)
    query = select(Service).where(Service.tier <= 1).order_by(Service.tier, Service.name)
    if caller is not None:
        query = query.where(caller.team_filter(Service.team_id))
    services = list(session.scalars(query))
    reviewed: dict[int, dt.date | None] = {}
    for row in session.execute(
        select(ThreatModel.service_id, func.max(ThreatModelVersion.reviewed))
        .join(ThreatModelVersion, ThreatModelVersion.model_id == ThreatModel.id)
        .group_by(ThreatModel.service_id)
    ):
        reviewed[row[0]] = row[1]
    rows = []
    for service in services:
        last = reviewed.get(service.id)
        state = (
            "missing"
            if service.id not in reviewed
            else "covered"
            if last is not None and last >= since
            else "stale"
        )
        rows.append(
            {
                "service": service.name,
                "tier": service.tier,
                "has_model": service.id in reviewed,
                "last_reviewed": last.isoformat() if last else None,
                "state": state,
            }
        )
    return rows


def coverage_share(rows: list[dict[str, Any]]) -> float:
    return round(sum(r["state"] == "covered" for r in rows) / len(rows), 3) if rows else 0.0
