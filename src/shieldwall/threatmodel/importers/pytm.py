"""pytm models, as ``python tm.py --json FILE`` writes them (pytm 1.2 and 1.3).

pytm serialises its ``TM`` object: ``boundaries`` (with ``inBoundary`` for nesting),
``elements`` (each with its ``__class__``: Actor, Server, Process, SetOfProcesses, Lambda,
Datastore, ExternalEntity), ``flows`` (``source`` and ``sink`` by name, the ``data`` they
carry, ``responseTo``), ``data`` (classification, ``isPII``, ``isCredentials``,
``processedBy``), ``assumptions`` and pytm's own ``findings``. Security properties sit in each
element's ``controls``, or (models written for pytm 1.1 and earlier) on the element itself.

What maps, and how:

- Actor becomes an actor (``isAdmin`` makes it privileged); Server a web application (pytm's
  threat library treats it as a web server), Process and SetOfProcesses processes, Lambda a
  function, ExternalEntity an external service, Datastore a database, file system, object
  storage, identity provider or log store by its ``type`` and ``storesLogData``;
- boundaries keep their nesting; elements their boundary (an actor stands outside every
  boundary in Shieldwall, so its boundary is noted);
- Data becomes an asset: the classification gives the confidentiality need, ``isPII`` and
  ``isCredentials`` the data classes; data processed by a datastore is stored there;
- a flow's free-text protocol is read for its name ("MySQL" is SQL) and upgraded to its TLS
  variant when the flow ``isEncrypted``; ``authenticatesSource`` and its
  ``authenticationScheme`` give the authentication, ``authorizesSource`` the authorization,
  ``usesVPN`` the ``vpn`` control; a response (``responseTo``) is folded into the request
  it answers, its data becoming what the request receives;
- controls with a Shieldwall equivalent become controls (``isHardened`` is
  ``hardened-config``, ``usesParameterizedInput`` ``parameterized-queries``, ...); the rest
  are named in a note.

pytm's findings come from pytm's own threat library and are not imported: Shieldwall's
rules make the threats.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from shieldwall.threatmodel.importers.base import (
    Draft,
    Importer,
    ImportResult,
    Reader,
    encrypted_override,
    load_json,
    name,
    protocol_from_text,
    text,
    unique,
)
from shieldwall.threatmodel.vocabulary import (
    ActorTrust,
    Authentication,
    Authorization,
    ComponentType,
    DataClass,
    Feature,
)

_COMPONENT_TYPES = {
    "Server": ComponentType.WEB_APPLICATION,
    "Process": ComponentType.PROCESS,
    "SetOfProcesses": ComponentType.PROCESS,
    "Lambda": ComponentType.FUNCTION,
    "ExternalEntity": ComponentType.EXTERNAL_SERVICE,
    "Datastore": ComponentType.DATABASE,
    "Asset": ComponentType.PROCESS,
}
_DATASTORE_TYPES = {
    "FILE_SYSTEM": ComponentType.FILE_SYSTEM,
    "AWS_S3": ComponentType.OBJECT_STORAGE,
    "LDAP": ComponentType.IDENTITY_PROVIDER,
    "SQL": ComponentType.DATABASE,
}
_CONFIDENTIALITY = {
    "PUBLIC": "low",
    "RESTRICTED": "medium",
    "SENSITIVE": "high",
    "SECRET": "high",
    "TOP_SECRET": "critical",
}
_CONTROLS = {
    "isEncrypted": "encryption-in-transit",
    "isEncryptedAtRest": "encryption-at-rest",
    "isHardened": "hardened-config",
    "sanitizesInput": "input-validation",
    "validatesInput": "input-validation",
    "checksInputBounds": "input-validation",
    "implementsServerSideValidation": "input-validation",
    "validatesHeaders": "input-validation",
    "validatesContentType": "input-validation",
    "implementsStrictHTTPValidation": "input-validation",
    "encodesOutput": "output-encoding",
    "encodesHeaders": "output-encoding",
    "hasAccessControl": "authorization",
    "authorizesSource": "authorization",
    "authenticatesSource": "authentication",
    "implementsAuthenticationScheme": "authentication",
    "usesMFA": "mfa",
    "usesParameterizedInput": "parameterized-queries",
    "implementsCSRFToken": "csrf-protection",
    "usesCodeSigning": "code-signing",
    "disablesDTD": "xml-hardening",
    "disablesiFrames": "clickjacking-protection",
    "implementsPOLP": "least-privilege",
    "isResilient": "redundancy",
    "handlesResourceConsumption": "resource-limits",
    "definesConnectionTimeout": "resource-limits",
    "usesStrongSessionIdentifiers": "session-management",
    "verifySessionIdentifiers": "session-management",
    "providesIntegrity": "integrity-checks",
    "implementsNonce": "replay-protection",
    "tracksExecutionFlow": "audit-logging",
    "usesVPN": "vpn",
}
_NOT_CONTROLS = frozenset(
    {"inScope", "isAdmin", "isSQL", "isShared", "isResponse", "isPII", "isCredentials"}
    | {"isStored", "onAWS", "onRDS", "storesPII", "storesLogData", "storesSensitiveData"}
    | {"hasWriteAccess", "handlesResources", "usesEnvironmentVariables", "usesCache"}
    | {"usesXMLParser", "usesSessionTokens", "implementsAPI", "allowsClientSideScripting"}
    | {"implementsCommunicationProtocol", "hasPhysicalAccess", "colormap", "ignoreUnused"}
    | {"isOrdered", "mergeResponses", "isDestEncryptedAtRest", "isSourceEncryptedAtRest"}
)
"""Element attributes that are booleans but not controls (read where they mean something)."""
_FEATURES = {
    "usesXMLParser": Feature.XML_PARSING,
    "usesCache": Feature.CACHES_RESPONSES,
    "usesEnvironmentVariables": Feature.SECRETS_IN_CONFIG,
}
# pytm's authenticationScheme is free text: "Basic", "OAuth2", "JWT", "mTLS", ...
_SCHEMES: tuple[tuple[str, Authentication], ...] = (
    (r"mtls|mutual|x\.?509|certificate|cert\b", Authentication.CLIENT_CERTIFICATE),
    (r"mfa|2fa|two.factor|otp", Authentication.TWO_FACTOR),
    (r"saml|sso|oidc|openid", Authentication.SSO),
    (r"api.?key", Authentication.API_KEY),
    (r"oauth|jwt|bearer|token", Authentication.TOKEN),
    (r"session|cookie", Authentication.SESSION),
    (r"iam|workload|service account|managed identity", Authentication.WORKLOAD_IDENTITY),
    (r"basic|password|credential|digest|ntlm|kerberos", Authentication.CREDENTIALS),
)


def read(path: Path) -> ImportResult:
    reader = Reader(path)
    root = reader.mapping(load_json(path), "the file", optional=False)
    if not {"elements", "flows", "boundaries"} & set(root):
        raise reader.fail("not a pytm model: no elements, flows or boundaries (tm.py --json)")
    draft = Draft(path, "pytm")
    draft.model.update(
        {"title": name(root.get("name")) or path.stem, "description": text(root.get("description"))}
    )
    boundaries = _boundaries(draft, reader, root)
    elements = reader.records(root.get("elements"), "elements")
    if "elements" not in root:  # the actors and assets lists hold the same elements
        elements = reader.records(root.get("actors"), "actors")
        elements += reader.records(root.get("assets"), "assets")
    ids = _elements(draft, reader, elements, boundaries)
    assets = _data(draft, reader, root, elements, ids)
    _flows(draft, reader, root, ids, assets)
    for assumption in reader.words(root.get("assumptions"), "assumptions"):
        draft.assume(assumption)
    findings = reader.items(root.get("findings"), "findings")
    if findings:
        draft.note(
            f"{len(findings)} pytm findings not imported: they come from pytm's threat "
            "library; Shieldwall's rules make their own threats"
        )
    return draft.finish()


IMPORTER = Importer("pytm", "pytm (tm.py --json)", read)


def _enum(value: Any) -> str:
    """pytm writes enums as ``Classification.SECRET``."""
    return str(value).rpartition(".")[2].upper() if value is not None else ""


def _name_of(reader: Reader, item: dict[str, Any], where: str) -> str:
    value = item.get("name")
    if not isinstance(value, str) or not value.strip():
        raise reader.fail(f"{where} has no name")
    return value


def _boundaries(draft: Draft, reader: Reader, root: dict[str, Any]) -> dict[str, str]:
    """pytm boundary name → boundary id."""
    records = reader.records(root.get("boundaries"), "boundaries")
    ids: dict[str, str] = {}
    for index, boundary in enumerate(records):
        title = _name_of(reader, boundary, f"boundaries[{index}]")
        ids[title] = draft.new_id(title, "boundary")
    for index, boundary in enumerate(records):
        title = _name_of(reader, boundary, f"boundaries[{index}]")
        parent = reader.ref(boundary.get("inBoundary"), f"boundary {title!r}: inBoundary")
        if parent is not None and parent not in ids:
            raise reader.fail(f"boundary {title!r} is in {parent!r}, which is not a boundary")
        draft.add(
            "boundaries",
            {
                "id": ids[title],
                "name": name(title),
                "description": text(boundary.get("description")),
                "parent": ids.get(parent) if parent is not None else None,
            },
        )
    return ids


def _flags(reader: Reader, element: dict[str, Any], where: str) -> dict[str, bool]:
    """The element's security flags: its ``controls`` and, for older models, the same
    names on the element itself (set either way, a flag counts)."""
    controls = reader.mapping(element.get("controls"), f"{where}: controls")
    flags = {k: v for k, v in controls.items() if isinstance(v, bool)}
    for key, value in element.items():
        if isinstance(value, bool) and key not in _NOT_CONTROLS:
            flags[key] = flags.get(key, False) or value
    return flags


def _controls(flags: dict[str, bool], unmapped: set[str]) -> list[str]:
    controls = []
    for flag, on in flags.items():
        if not on:
            continue
        if flag in _CONTROLS:
            controls.append(_CONTROLS[flag])
        else:
            unmapped.add(flag)
    return unique(controls)


def _elements(
    draft: Draft, reader: Reader, elements: list[dict[str, Any]], boundaries: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """pytm element name → (model id, pytm class)."""
    ids: dict[str, tuple[str, str]] = {}
    unmapped: set[str] = set()
    actors_in_boundaries: list[str] = []
    for index, element in enumerate(elements):
        where = f"elements[{index}]"
        title = _name_of(reader, element, where)
        klass = str(element.get("__class__") or "Asset")
        if title in ids:
            raise reader.fail(f"two elements are called {title!r}")
        element_id = draft.new_id(title, "element")
        ids[title] = (element_id, klass)
        boundary = reader.ref(element.get("inBoundary"), f"element {title!r}: inBoundary")
        if boundary is not None and boundary not in boundaries:
            raise reader.fail(f"element {title!r} is in {boundary!r}, which is not a boundary")
        flags = _flags(reader, element, f"element {title!r}")
        if klass == "Actor":
            if boundary is not None:
                actors_in_boundaries.append(f"{title} ({boundary})")
            draft.add(
                "actors",
                {
                    "id": element_id,
                    "name": name(title),
                    "description": text(element.get("description")),
                    "trust": str(
                        ActorTrust.PRIVILEGED if element.get("isAdmin") else ActorTrust.UNTRUSTED
                    ),
                },
            )
            continue
        if klass not in _COMPONENT_TYPES:
            draft.note(f"element {title!r} is a pytm {klass}: taken as a process")
        ctype = _COMPONENT_TYPES.get(klass, ComponentType.PROCESS)
        if klass == "Datastore":
            ctype = (
                ComponentType.LOG_STORE
                if element.get("storesLogData") is True
                else _DATASTORE_TYPES.get(_enum(element.get("type")), ComponentType.DATABASE)
            )
        in_scope = element.get("inScope", True) is not False
        draft.add(
            "components",
            {
                "id": element_id,
                "name": name(title),
                "description": text(element.get("description")),
                "type": str(ctype),
                "boundary": boundaries.get(boundary) if boundary is not None else None,
                "technology": name(element.get("OS")),
                "multi_tenant": element.get("isShared") is True,
                "features": [str(f) for k, f in _FEATURES.items() if element.get(k) is True],
                "controls": _controls(flags, unmapped),
                "out_of_scope": not in_scope,
                "out_of_scope_reason": None if in_scope else "out of scope in the pytm model",
            },
        )
    draft.note_list(
        "actors stand outside every boundary in Shieldwall; their pytm boundaries are dropped",
        actors_in_boundaries,
    )
    _note_unmapped(draft, unmapped)
    return ids


def _note_unmapped(draft: Draft, unmapped: set[str]) -> None:
    draft.note_list("pytm controls with no Shieldwall equivalent, left out", sorted(unmapped))


def _data(
    draft: Draft,
    reader: Reader,
    root: dict[str, Any],
    elements: list[dict[str, Any]],
    ids: dict[str, tuple[str, str]],
) -> dict[str, str]:
    """The data as assets, stored or processed by the elements that handle them; returns
    data name → asset id."""
    assets: dict[str, str] = {}
    handled: dict[str, dict[str, list[str]]] = {}
    for index, data in enumerate(reader.records(root.get("data"), "data")):
        title = _name_of(reader, data, f"data[{index}]")
        if title in assets:
            raise reader.fail(f"two data are called {title!r}")
        asset_id = draft.new_id(title, "asset")
        assets[title] = asset_id
        classes = [str(DataClass.PII)] if data.get("isPII") is True else []
        if data.get("isCredentials") is True:
            classes.append(str(DataClass.CREDENTIALS))
        draft.add(
            "assets",
            {
                "id": asset_id,
                "name": name(title),
                "description": text(data.get("description")),
                "data_classes": classes,
                "confidentiality": _CONFIDENTIALITY.get(_enum(data.get("classification"))),
            },
        )
        for element in reader.words(data.get("processedBy"), f"data {title!r}: processedBy"):
            if element not in ids:
                raise reader.fail(f"data {title!r} is processed by {element!r}: no such element")
            element_id, klass = ids[element]
            if klass != "Actor":
                key = "stores" if klass == "Datastore" else "processes"
                handled.setdefault(element_id, {}).setdefault(key, []).append(asset_id)
    for component in draft.sections["components"]:
        for key, values in handled.get(component["id"], {}).items():
            component[key] = unique(values)
    _stores_pii(draft, elements, ids)
    return assets


def _stores_pii(
    draft: Draft, elements: list[dict[str, Any]], ids: dict[str, tuple[str, str]]
) -> None:
    """A datastore that ``storesPII`` without any data saying so gets an asset for it, so
    the privacy threats are not lost with the flag."""
    personal = {a["id"] for a in draft.sections["assets"] if "pii" in a.get("data_classes", [])}
    components = {c["id"]: c for c in draft.sections["components"]}
    for element in elements:
        title = str(element.get("name"))
        if element.get("storesPII") is not True or title not in ids:
            continue
        component = components.get(ids[title][0])
        if component is None or personal & set(component.get("stores", [])):
            continue
        asset_id = draft.new_id(f"{component['id']}-personal-data", "personal-data")
        draft.add(
            "assets",
            {"id": asset_id, "name": name(f"Personal data in {title}"), "data_classes": ["pii"]},
        )
        component["stores"] = [*component.get("stores", []), asset_id]
        draft.note(f"{title!r} stores personal data (storesPII): added the asset {asset_id}")


def _flows(
    draft: Draft,
    reader: Reader,
    root: dict[str, Any],
    ids: dict[str, tuple[str, str]],
    assets: dict[str, str],
) -> None:
    records = reader.records(root.get("flows"), "flows")
    by_name: dict[str, dict[str, Any]] = {}
    unmapped: set[str] = set()
    folded, out_of_scope, loops = [], [], []
    for index, flow in enumerate(records):
        title = _name_of(reader, flow, f"flows[{index}]")
        ends = []
        for end in ("source", "sink"):
            value = reader.ref(flow.get(end), f"flow {title!r}: {end}")
            if value not in ids:
                raise reader.fail(f"flow {title!r}: {end} {value!r} is not an element")
            ends.append(ids[value][0])
        source, target = ends
        data = [
            assets[d] if d in assets else _missing(reader, title, d)
            for d in reader.words(flow.get("data"), f"flow {title!r}: data")
        ]
        request = by_name.get(reader.ref(flow.get("responseTo"), f"flow {title!r}") or "")
        if request is not None and (request["source"], request["target"]) == (target, source):
            request["receives"] = unique([*request.get("receives", []), *data])
            folded.append(title)
            continue
        if flow.get("inScope", True) is False:
            out_of_scope.append(title)
            continue
        if source == target:
            loops.append(title)
            continue
        flags = _flags(reader, flow, f"flow {title!r}")
        label = str(flow.get("protocol") or "")
        protocol, encrypted = protocol_from_text(label, flags.get("isEncrypted") or None)
        if flags.get("usesVPN"):
            encrypted = encrypted_override(protocol, True)  # what a plain protocol is not
        controls = _controls(
            {k: v for k, v in flags.items() if k not in ("isEncrypted", "authenticatesSource")},
            unmapped,
        )
        draft_flow = draft.add(
            "flows",
            {
                "name": name(title),
                "description": text(flow.get("description"), flow.get("note")),
                "source": source,
                "target": target,
                "protocol": str(protocol),
                "encrypted": encrypted,
                "authentication": str(_authentication(flow, flags)),
                "authorization": str(_authorization(flags, ids, flow)),
                "sends": unique(data),
                "controls": controls,
            },
        )
        by_name.setdefault(title, draft_flow)
    draft.note_list("pytm responses folded into the requests they answer", folded)
    draft.note_list("flows out of scope in pytm, left out", out_of_scope)
    draft.note_list("flows from an element to itself, left out", loops)
    _note_unmapped(draft, unmapped)


def _missing(reader: Reader, flow: str, data: str) -> str:
    raise reader.fail(f"flow {flow!r} carries {data!r}, which is not a data")


def _authentication(flow: dict[str, Any], flags: dict[str, bool]) -> Authentication:
    if flags.get("usesMFA"):
        return Authentication.TWO_FACTOR
    controls = flow.get("controls")
    scheme = str(controls.get("authenticationScheme") or "") if isinstance(controls, dict) else ""
    scheme = scheme.lower()
    if not flags.get("authenticatesSource") and not scheme:
        return Authentication.NONE
    for pattern, authentication in _SCHEMES:
        if re.search(pattern, scheme):
            return authentication
    return Authentication.CREDENTIALS


def _authorization(
    flags: dict[str, bool], ids: dict[str, tuple[str, str]], flow: dict[str, Any]
) -> Authorization:
    if not flags.get("authorizesSource"):
        return Authorization.NONE
    from_actor = ids[str(flow.get("source"))][1] == "Actor"
    return Authorization.END_USER if from_actor else Authorization.TECHNICAL_USER
