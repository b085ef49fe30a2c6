"""Threagile models (``threagile.yaml``, format 1.0.0 and the 2.x additions).

The vocabulary is Threagile's own (``pkg/security/types`` in Threagile/threagile): technical
assets with a technology, a type and CIA ratings; data assets with CIA ratings; communication
links on the asset they start from; trust boundaries that nest; shared runtimes.

What maps, and how:

- technical assets become components; the technology picks the component type (a web
  server is a web application, an LDAP identity store an identity provider, a build pipeline
  CI/CD, ...), ``internet: true`` makes them internet-facing, ``encryption`` becomes an
  encryption control, accepted XML and serialised formats become features;
- data assets become assets; their confidentiality, integrity and availability ratings
  become needs, and their data classes are guessed from their ids, names, descriptions and
  tags (personal data, credentials, payment, health), listed in a note to review;
- communication links become flows with their protocol, authentication, authorization,
  data sent and received; ``vpn`` and ``ip_filtered`` become the ``vpn`` and
  ``ip-allowlist`` controls;
- trust boundaries keep their nesting (``parent``); an asset listed in several boundaries
  goes to the innermost;
- answered questions become assumptions (the answer is what the team takes to be true);
  unanswered questions, abuse cases and security requirements become notes. Abuse cases are
  not assumptions: they are attacker goals, and Shieldwall's threats come from its rules;
  listing them for the design review is where they help.

What cannot map is named in the notes: shared runtimes, risk tracking and individual risks
(Threagile's risk ids name Threagile's rules), includes, and the attributes Shieldwall has no
place for (machine, size, owner, tags, the technical assets' own CIA ratings).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from shieldwall.structured import load_yaml, read_text
from shieldwall.threatmodel.importers.base import (
    Draft,
    Importer,
    ImportResult,
    Reader,
    encrypted_override,
    name,
    text,
    unique,
)
from shieldwall.threatmodel.model import MAX_MODEL_BYTES
from shieldwall.threatmodel.vocabulary import (
    Authentication,
    Authorization,
    BoundaryType,
    ComponentType,
    DataClass,
    Feature,
    Protocol,
)

_TECHNOLOGY: dict[str, ComponentType] = {
    "client-system": ComponentType.DESKTOP_CLIENT,
    "browser": ComponentType.BROWSER,
    "desktop": ComponentType.DESKTOP_CLIENT,
    "mobile-app": ComponentType.MOBILE_CLIENT,
    "devops-client": ComponentType.DESKTOP_CLIENT,
    "iot-device": ComponentType.DEVICE,
    # Threagile's own "is web application" group
    "web-server": ComponentType.WEB_APPLICATION,
    "web-application": ComponentType.WEB_APPLICATION,
    "application-server": ComponentType.WEB_APPLICATION,
    "erp": ComponentType.WEB_APPLICATION,
    "cms": ComponentType.WEB_APPLICATION,
    "report-engine": ComponentType.WEB_APPLICATION,
    "web-service-rest": ComponentType.API,
    "web-service-soap": ComponentType.API,
    "ejb": ComponentType.API,
    "database": ComponentType.DATABASE,
    "identity-store-database": ComponentType.DATABASE,
    "data-lake": ComponentType.DATABASE,
    "big-data-platform": ComponentType.DATABASE,
    "search-index": ComponentType.DATABASE,
    "file-server": ComponentType.FILE_SYSTEM,
    "local-file-system": ComponentType.FILE_SYSTEM,
    "block-storage": ComponentType.FILE_SYSTEM,
    "identity-provider": ComponentType.IDENTITY_PROVIDER,
    "identity-store-ldap": ComponentType.IDENTITY_PROVIDER,
    "ldap-server": ComponentType.IDENTITY_PROVIDER,
    "build-pipeline": ComponentType.CI_CD,
    "sourcecode-repository": ComponentType.CI_CD,
    "artifact-registry": ComponentType.CI_CD,
    "code-inspection-platform": ComponentType.CI_CD,
    "reverse-proxy": ComponentType.GATEWAY,
    "load-balancer": ComponentType.GATEWAY,
    "waf": ComponentType.GATEWAY,
    "gateway": ComponentType.GATEWAY,
    "service-mesh": ComponentType.GATEWAY,
    "message-queue": ComponentType.QUEUE,
    "vault": ComponentType.SECRET_STORE,
    "hsm": ComponentType.SECRET_STORE,
    "monitoring": ComponentType.LOG_STORE,
    "function": ComponentType.FUNCTION,
    "scheduler": ComponentType.SCHEDULER,
    "ai": ComponentType.LLM,
    **dict.fromkeys(
        (
            "search-engine",
            "service-registry",
            "container-platform",
            "batch-processing",
            "event-listener",
            "stream-processing",
            "tool",
            "cli",
            "threagile",
            "task",
            "mail-server",
            "ids",
            "ips",
            "mainframe",
            "library",
        ),
        ComponentType.PROCESS,
    ),
}
_BY_ASSET_TYPE = {
    "external-entity": ComponentType.EXTERNAL_SERVICE,
    "process": ComponentType.PROCESS,
    "datastore": ComponentType.DATABASE,
}

# Each Threagile protocol: ours, and whether Threagile calls it encrypted where ours cannot
# say so by itself (its "binary-encrypted" is our "other", encrypted).
_PROTOCOLS: dict[str, tuple[Protocol, bool | None]] = {
    "http": (Protocol.HTTP, None),
    "https": (Protocol.HTTPS, None),
    "ws": (Protocol.WS, None),
    "wss": (Protocol.WSS, None),
    "reverse-proxy-web-protocol": (Protocol.HTTP, None),
    "reverse-proxy-web-protocol-encrypted": (Protocol.HTTPS, None),
    "mqtt": (Protocol.MQTT, None),
    "jdbc": (Protocol.SQL, None),
    "jdbc-encrypted": (Protocol.SQL_TLS, None),
    "odbc": (Protocol.SQL, None),
    "odbc-encrypted": (Protocol.SQL_TLS, None),
    "sql-access-protocol": (Protocol.SQL, None),
    "sql-access-protocol-encrypted": (Protocol.SQL_TLS, None),
    "nosql-access-protocol": (Protocol.NOSQL, None),
    "nosql-access-protocol-encrypted": (Protocol.NOSQL_TLS, None),
    "ssh": (Protocol.SSH, None),
    "ssh-tunnel": (Protocol.SSH, None),
    "scp": (Protocol.SSH, None),
    "smtp": (Protocol.SMTP, None),
    "smtp-encrypted": (Protocol.SMTPS, None),
    "ftp": (Protocol.FTP, None),
    "ftps": (Protocol.FTPS, None),
    "sftp": (Protocol.SFTP, None),
    "ldap": (Protocol.LDAP, None),
    "ldaps": (Protocol.LDAPS, None),
    "jms": (Protocol.AMQP, None),
    "nfs": (Protocol.NFS, None),
    "smb": (Protocol.SMB, None),
    "smb-encrypted": (Protocol.SMB, True),
    "local-file-access": (Protocol.LOCAL, None),
    "in-process-library-call": (Protocol.IN_PROCESS, None),
    "container-spawning": (Protocol.LOCAL, None),
    "binary": (Protocol.OTHER, None),
    "binary-encrypted": (Protocol.OTHER, True),
    "text": (Protocol.OTHER, None),
    "text-encrypted": (Protocol.OTHER, True),
    "pop3": (Protocol.OTHER, None),
    "pop3-encrypted": (Protocol.OTHER, True),
    "imap": (Protocol.OTHER, None),
    "imap-encrypted": (Protocol.OTHER, True),
    "nrpe": (Protocol.OTHER, None),
    "xmpp": (Protocol.OTHER, None),
    "iiop": (Protocol.OTHER, None),
    "iiop-encrypted": (Protocol.OTHER, True),
    "jrmp": (Protocol.OTHER, None),
    "jrmp-encrypted": (Protocol.OTHER, True),
    "unknown-protocol": (Protocol.OTHER, None),
}
_EXACT_PROTOCOLS = frozenset(
    {"http", "https", "ws", "wss", "mqtt", "ssh", "smtp", "ftp", "ftps", "sftp", "ldap"}
    | {"ldaps", "nfs", "smb", "local-file-access", "in-process-library-call", "unknown-protocol"}
    | {"jdbc", "jdbc-encrypted", "odbc", "odbc-encrypted", "sql-access-protocol"}
    | {"sql-access-protocol-encrypted", "nosql-access-protocol"}
    | {"nosql-access-protocol-encrypted", "smtp-encrypted", "ssh-tunnel", "scp"}
    | {"reverse-proxy-web-protocol", "reverse-proxy-web-protocol-encrypted"}
)
"""Protocols ours names as exactly (the others are noted as approximated)."""

_AUTHENTICATION = {
    "none": Authentication.NONE,
    "credentials": Authentication.CREDENTIALS,
    "session-id": Authentication.SESSION,
    "token": Authentication.TOKEN,
    "client-certificate": Authentication.CLIENT_CERTIFICATE,
    "two-factor": Authentication.TWO_FACTOR,
    # handled outside the asset, by a gateway or an identity provider in front of it
    "externalized": Authentication.SSO,
}
_AUTHORIZATION = {
    "none": Authorization.NONE,
    "technical-user": Authorization.TECHNICAL_USER,
    "enduser-identity-propagation": Authorization.END_USER,
    "end-user-identity-propagation": Authorization.END_USER,  # as the example model spells it
}
_ENCRYPTION = {
    "none": None,
    "transparent": "encryption-at-rest",
    # the application encrypts the data itself (implies encryption at rest)
    "data-with-symmetric-shared-key": "field-level-encryption",
    "data-with-asymmetric-shared-key": "field-level-encryption",
    "data-with-end-user-individual-key": "field-level-encryption",
}
_BOUNDARY_TYPES = {
    "network-on-prem": BoundaryType.NETWORK,
    "network-dedicated-hoster": BoundaryType.NETWORK,
    "network-virtual-lan": BoundaryType.NETWORK_SEGMENT,
    "network-cloud-provider": BoundaryType.CLOUD_ACCOUNT,
    "network-cloud-security-group": BoundaryType.NETWORK_SEGMENT,
    "network-policy-namespace-isolation": BoundaryType.NAMESPACE,
    "execution-environment": BoundaryType.EXECUTION_ENVIRONMENT,
}
_CONFIDENTIALITY = {
    "public": "low",
    "internal": "medium",
    "restricted": "medium",
    "confidential": "high",
    "strictly-confidential": "critical",
}
_CRITICALITY = {
    "archive": "low",
    "operational": "medium",
    "important": "medium",
    "critical": "high",
    "mission-critical": "critical",
}
_FEATURES_BY_FORMAT = {"xml": Feature.XML_PARSING, "serialization": Feature.DESERIALIZATION}

# Conservative: whole words only, in the id, name, description and tags of a data asset.
_DATA_CLASS_WORDS: tuple[tuple[DataClass, re.Pattern[str]], ...] = (
    (DataClass.PII, re.compile(r"\b(pii|personal|personally)\b")),
    (
        DataClass.CREDENTIALS,
        re.compile(r"\b(credentials?|passwords?|secrets?|api[ -]?keys?|private[ -]keys?)\b"),
    ),
    (DataClass.PAYMENT, re.compile(r"\b(payments?|credit[ -]?cards?|card numbers?|pci)\b")),
    (DataClass.HEALTH, re.compile(r"\b(health|medical|patients?)\b")),
)


def read(path: Path) -> ImportResult:
    document = _load(path)
    reader = Reader(path)
    root = reader.mapping(document, "the file", optional=False)
    draft = Draft(path, "Threagile")
    _overview(draft, reader, root)
    assets = _data_assets(draft, reader, root)
    technical = {
        str(title): reader.mapping(asset, f"technical asset {title!r}", optional=False)
        for title, asset in reader.mapping(root.get("technical_assets"), "technical_assets").items()
    }
    ids = _ids(draft, technical, "technical asset", "component")
    boundary_of = _boundaries(draft, reader, root, ids)
    for title, asset in technical.items():
        _component(draft, reader, title, asset, ids[_raw_id(title, asset)], assets, boundary_of)
    for title, asset in technical.items():
        _links(draft, reader, title, asset, ids, assets)
    _unmapped(draft, reader, root, ids)
    draft.note_list("ids changed to fit Shieldwall's id rules", draft.renamed)
    return draft.finish()


IMPORTER = Importer("threagile", "Threagile", read)


# -- reading -----------------------------------------------------------------------------


def _load(path: Path) -> Any:
    """The YAML document (Threagile's own example uses merge keys, ``<<: *base``, which
    ``load_yaml`` resolves)."""
    return load_yaml(path, read_text(path, MAX_MODEL_BYTES)).data


# -- the parts of a model -------------------------------------------------------------------


def _raw_id(title: str, item: dict[str, Any]) -> str:
    """Threagile's id of an element (its key when the id is missing)."""
    raw = item.get("id")
    return title if raw is None or isinstance(raw, dict | list) else str(raw)


def _ids(
    draft: Draft, items: dict[str, dict[str, Any]], what: str, fallback: str
) -> dict[str, str]:
    """Threagile id → model id, for one kind of element."""
    ids: dict[str, str] = {}
    for title, item in items.items():
        raw = _raw_id(title, item)
        if raw in ids:
            raise draft.fail(f"two {what}s have the id {raw!r}")
        ids[raw] = draft.new_id(raw, fallback, keep=True)
    return ids


def _overview(draft: Draft, reader: Reader, root: dict[str, Any]) -> None:
    author = reader.mapping(root.get("author"), "author")
    business = reader.mapping(root.get("business_overview"), "business_overview")
    technical = reader.mapping(root.get("technical_overview"), "technical_overview")
    application = reader.mapping(root.get("application_description"), "application_description")
    draft.model.update(
        {
            "title": name(root.get("title")) or draft.path.stem,
            "description": text(
                application.get("description"),
                business.get("description"),
                technical.get("description"),
            ),
            "owner": name(author.get("name")),
            "reviewed": _date(root.get("date")),
        }
    )


def _date(value: Any) -> dt.date | None:
    """Threagile writes ``date: 2020-07-01``, which YAML reads as a date; anything else
    (a typo, a time) is left for the review rather than guessed."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _data_assets(draft: Draft, reader: Reader, root: dict[str, Any]) -> dict[str, str]:
    """The data assets as model assets; returns Threagile id → asset id."""
    data_assets = {
        str(title): reader.mapping(raw, f"data asset {title!r}", optional=False)
        for title, raw in reader.mapping(root.get("data_assets"), "data_assets").items()
    }
    ids = _ids(draft, data_assets, "data asset", "asset")
    guessed: list[str] = []
    for title, asset in data_assets.items():
        where = f"data asset {title!r}"
        original = _raw_id(title, asset)
        asset_id = ids[original]
        tags = reader.words(asset.get("tags"), f"{where}: tags")
        words = " ".join([original, str(title), str(asset.get("description") or ""), *tags])
        classes = [c for c, pattern in _DATA_CLASS_WORDS if pattern.search(words.lower())]
        if classes:
            guessed.append(f"{asset_id} ({', '.join(classes)})")
        draft.add(
            "assets",
            {
                "id": asset_id,
                "name": name(title),
                "description": text(asset.get("description")),
                "data_classes": [str(c) for c in classes],
                "confidentiality": _level(
                    draft, reader, asset, "confidentiality", _CONFIDENTIALITY, where
                ),
                "integrity": _level(draft, reader, asset, "integrity", _CRITICALITY, where),
                "availability": _level(draft, reader, asset, "availability", _CRITICALITY, where),
            },
        )
    draft.note_list("data classes guessed from names and descriptions (review them)", guessed)
    return ids


def _level(
    draft: Draft,
    reader: Reader,
    item: dict[str, Any],
    key: str,
    levels: dict[str, str],
    where: str,
) -> str | None:
    value = reader.word(item.get(key), f"{where}: {key}")
    if value and value not in levels:
        draft.note(f"{where}: unknown {key} {value!r} left out")
    return levels.get(value)


def _boundaries(
    draft: Draft, reader: Reader, root: dict[str, Any], components: dict[str, str]
) -> dict[str, str]:
    """The trust boundaries, nested; returns component id → its innermost boundary."""
    entries = {
        str(title): reader.mapping(raw, f"trust boundary {title!r}", optional=False)
        for title, raw in reader.mapping(root.get("trust_boundaries"), "trust_boundaries").items()
    }
    ids = _ids(draft, entries, "trust boundary", "boundary")
    parent: dict[str, str] = {}
    for title, boundary in entries.items():
        own = ids[_raw_id(title, boundary)]
        nested = reader.words(boundary.get("trust_boundaries_nested"), f"{title}: nested")
        for child in nested:
            if child not in ids:
                raise draft.fail(f"trust boundary {title!r} nests {child!r}, which is not one")
            if ids[child] in parent and parent[ids[child]] != own:
                draft.note(
                    f"trust boundary {child!r} is nested in two boundaries: "
                    f"kept inside {parent[ids[child]]!r}"
                )
                continue
            parent[ids[child]] = own
    depth = {b: _depth(b, parent) for b in ids.values()}
    members: dict[str, str] = {}
    for title, boundary in entries.items():
        own = ids[_raw_id(title, boundary)]
        inside = reader.words(boundary.get("technical_assets_inside"), f"{title}: assets inside")
        for raw in inside:
            if raw not in components:
                raise draft.fail(
                    f"trust boundary {title!r} holds {raw!r}, which is not a technical asset"
                )
            component = components[raw]
            current = members.get(component)
            if current is None or depth[own] > depth[current]:
                members[component] = own
        btype = reader.word(boundary.get("type"), f"trust boundary {title!r}: type")
        if btype and btype not in _BOUNDARY_TYPES:
            draft.note(f"trust boundary {title!r}: unknown type {btype!r}, taken as a network")
        draft.add(
            "boundaries",
            {
                "id": own,
                "name": name(title),
                "description": text(boundary.get("description")),
                "type": str(_BOUNDARY_TYPES.get(btype, BoundaryType.NETWORK)),
                "parent": parent.get(own),
            },
        )
    return members


def _depth(boundary: str, parent: dict[str, str]) -> int:
    depth, seen = 0, {boundary}
    while boundary in parent and parent[boundary] not in seen:
        boundary = parent[boundary]
        seen.add(boundary)
        depth += 1
    return depth


def _component(
    draft: Draft,
    reader: Reader,
    title: str,
    asset: dict[str, Any],
    component_id: str,
    data_ids: dict[str, str],
    boundary_of: dict[str, str],
) -> None:
    where = f"technical asset {title!r}"
    technologies = [reader.word(asset.get("technology"), f"{where}: technology")]
    technologies += [t.lower() for t in reader.words(asset.get("technologies"), where)]
    technology = next((t for t in technologies if t), "")
    asset_type = reader.word(asset.get("type"), f"{where}: type")
    ctype = _TECHNOLOGY.get(technology) or _BY_ASSET_TYPE.get(asset_type, ComponentType.PROCESS)
    if technology and technology not in _TECHNOLOGY:
        draft.note(f"{where}: unknown technology {technology!r}, taken as a {ctype}")
    controls = []
    encryption = reader.word(asset.get("encryption"), f"{where}: encryption")
    if _ENCRYPTION.get(encryption):
        controls.append(_ENCRYPTION[encryption])
    if reader.flag(asset.get("redundant"), f"{where}: redundant"):
        controls.append("redundancy")
    formats = [f.lower() for f in reader.words(asset.get("data_formats_accepted"), where)]
    features = [str(_FEATURES_BY_FORMAT[f]) for f in formats if f in _FEATURES_BY_FORMAT]
    if "file" in formats and ctype not in (ComponentType.CI_CD, ComponentType.FILE_SYSTEM):
        features.append(str(Feature.FILE_UPLOAD))
    out_of_scope = reader.flag(asset.get("out_of_scope"), f"{where}: out_of_scope")
    draft.add(
        "components",
        {
            "id": component_id,
            "name": name(title),
            "description": text(asset.get("description")),
            "type": str(ctype),
            "boundary": boundary_of.get(component_id),
            "technology": name(technology),
            "exposure": "internet" if reader.flag(asset.get("internet"), where) else None,
            "custom_developed": reader.flag(asset.get("custom_developed_parts"), where),
            "multi_tenant": reader.flag(asset.get("multi_tenant"), where),
            "stores": _refs(draft, reader, asset, "data_assets_stored", data_ids, where),
            "processes": _refs(draft, reader, asset, "data_assets_processed", data_ids, where),
            "features": unique(features),
            "controls": controls,
            "out_of_scope": out_of_scope,
            "out_of_scope_reason": (
                text(asset.get("justification_out_of_scope")) or "out of scope in Threagile"
            )
            if out_of_scope
            else None,
        },
    )


def _refs(
    draft: Draft,
    reader: Reader,
    item: dict[str, Any],
    key: str,
    ids: dict[str, str],
    where: str,
) -> list[str]:
    out = []
    for raw in reader.words(item.get(key), f"{where}: {key}"):
        if raw not in ids:
            raise draft.fail(f"{where}: {key} names {raw!r}, which is not a data asset")
        out.append(ids[raw])
    return unique(out)


def _links(
    draft: Draft,
    reader: Reader,
    title: str,
    asset: dict[str, Any],
    ids: dict[str, str],
    data_ids: dict[str, str],
) -> None:
    source = ids[_raw_id(title, asset)]
    links = reader.mapping(asset.get("communication_links"), f"{title}: communication_links")
    for link_title, raw in links.items():
        where = f"communication link {link_title!r} of {title!r}"
        link = reader.mapping(raw, where, optional=False)
        target_raw = reader.word(link.get("target"), f"{where}: target")
        target = ids.get(str(link.get("target")))
        if target is None:
            raise draft.fail(f"{where}: target {target_raw!r} is not a technical asset")

        if target == source:
            draft.note(f"{where} goes from an asset to itself: left out")
            continue
        protocol_word = reader.word(link.get("protocol"), f"{where}: protocol")
        protocol, encrypted = _PROTOCOLS.get(protocol_word, (Protocol.OTHER, None))
        if not protocol_word:
            draft.note(f"{where} has no protocol: taken as other")
        elif protocol_word not in _EXACT_PROTOCOLS:
            draft.note(f"protocol {protocol_word!r} approximated as {protocol}")
        vpn = reader.flag(link.get("vpn"), f"{where}: vpn")
        if vpn:
            # A plain protocol inside a VPN is encrypted on the wire.
            encrypted = True
        authentication = reader.word(link.get("authentication"), f"{where}: authentication")
        authorization = reader.word(link.get("authorization"), f"{where}: authorization")
        for value, known, what in (
            (authentication, _AUTHENTICATION, "authentication"),
            (authorization, _AUTHORIZATION, "authorization"),
        ):
            if value and value not in known:
                draft.note(f"{where}: unknown {what} {value!r} taken as none")
        if authentication == "externalized":
            draft.note("authentication 'externalized' taken as single sign-on (sso)")
        usage = reader.word(link.get("usage"), f"{where}: usage")
        draft.add(
            "flows",
            {
                "name": name(link_title),
                "description": text(link.get("description")),
                "source": source,
                "target": target,
                "protocol": str(protocol),
                "encrypted": encrypted_override(protocol, encrypted),
                "authentication": str(_AUTHENTICATION.get(authentication, Authentication.NONE)),
                "authorization": str(_AUTHORIZATION.get(authorization, Authorization.NONE)),
                "sends": _refs(draft, reader, link, "data_assets_sent", data_ids, where),
                "receives": _refs(draft, reader, link, "data_assets_received", data_ids, where),
                "readonly": reader.flag(link.get("readonly"), f"{where}: readonly"),
                "usage": "devops" if usage == "devops" else "business",
                "controls": [
                    *(["vpn"] if vpn else []),
                    *(["ip-allowlist"] if reader.flag(link.get("ip_filtered"), where) else []),
                ],
            },
        )


def _unmapped(draft: Draft, reader: Reader, root: dict[str, Any], ids: dict[str, str]) -> None:
    """Questions become assumptions where answered; the rest is named in notes."""
    for question, answer in reader.mapping(root.get("questions"), "questions").items():
        answered = text(answer)
        if answered:
            draft.assume(f"{question} {answered}")
    open_questions = [
        str(q) for q, a in reader.mapping(root.get("questions"), "questions").items() if not text(a)
    ]
    draft.note_list("unanswered questions (not imported)", open_questions)
    draft.note_list(
        "abuse cases (not imported: Shieldwall's rules make the threats; use them in review)",
        [str(k) for k in reader.mapping(root.get("abuse_cases"), "abuse_cases")],
    )
    draft.note_list(
        "security requirements (not imported)",
        [str(k) for k in reader.mapping(root.get("security_requirements"), "security")],
    )
    for title, raw in reader.mapping(root.get("shared_runtimes"), "shared_runtimes").items():
        runtime = reader.mapping(raw, f"shared runtime {title!r}", optional=False)
        running = reader.words(runtime.get("technical_assets_running"), f"{title}: running")
        draft.note(
            f"shared runtime {title!r} has no Shieldwall equivalent "
            f"(it runs {', '.join(ids.get(r, r) for r in running) or 'nothing'})"
        )
    tracked = reader.mapping(root.get("risk_tracking"), "risk_tracking")
    if tracked:
        draft.note(
            f"{len(tracked)} risk_tracking entries not imported: Threagile's risk ids name "
            "Threagile's rules; record treatments of Shieldwall's threats in the tracking file"
        )
    custom: list[str] = []
    for key in ("individual_risk_categories", "custom_risk_categories"):
        categories = root.get(key)  # a mapping in Threagile 1, a list in 2
        if isinstance(categories, list):
            custom += [str(c.get("id")) for c in reader.records(categories, key)]
        else:
            custom += [str(k) for k in reader.mapping(categories, key)]
    draft.note_list("individual risk categories not imported", custom)
    if reader.items(root.get("includes"), "includes"):
        draft.note("includes are not followed: import the complete model")
    if root.get("business_criticality"):
        draft.note("business_criticality has no place in a Shieldwall model")
    if not root.get("technical_assets") and not root.get("data_assets"):
        return
    draft.note(
        "left out (no place in a Shieldwall model): machine, size, owner and tags of "
        "technical assets, their own CIA ratings (Shieldwall derives them from the data), "
        "and origin, owner and quantity of data assets"
    )
