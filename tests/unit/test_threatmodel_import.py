"""Threat models from Threagile, pytm, Threat Dragon and TM-BOM: what a user sees after an
import, that the result is a model file Shieldwall reads back unchanged and analyses, that
what could not be carried over is named in the notes, and that a bad file is refused with
one line that names it. And the TM-BOM export: valid against the published schema, and read
back by the importer to the same model.

Fixtures, in tests/fixtures/threatmodels/:

- ``pytm-sample.json``: written by pytm 1.3.1 (``python pytm_tm.py --json pytm-sample.json``)
  from ``pytm_tm.py``, pytm's own sample model (OWASP/pytm ``tm.py``, commit 1505a47, MIT)
  with a few elements added (see its docstring).
- ``threat-dragon-demo.json``: Threat Dragon's "Demo Threat Model" (OWASP/threat-dragon
  ``td.vue/src/service/demo/v2-threat-model.json``, commit 24b89f4, Apache-2.0).
- ``threat-dragon-three-tier.json``: Threat Dragon's "Three Tier Web Application" demo
  (``td.vue/src/service/demo/three-tier-web-app.json``, commit a6a994c, Apache-2.0, itself
  from the OWASP Threat Model Cookbook).
  Both Threat Dragon files keep every cell, id, position, size, name and data value as
  published; the drawing-only parts (connection ports, label markup, line and fill styles,
  tool buttons) are removed to keep them short.
- ``huskyai.tmbom.json``: Threat Dragon's TM-BOM demo (``td.vue/src/service/demo/
  huskyai.tmbom.json``, commit 1e44cd3, Apache-2.0), with its flaws as published (a data set
  placed on a store that does not exist, flow ends of the wrong type); the scope description
  and the diagram source are shortened, and two of its nine threats, two of its controls
  and one of its three risks are kept.
- ``tmbom-1.0.1.schema.json``: the OWASP Threat Model Library's schema (OWASP/
  www-project-threat-model-library ``threat-model.schema.json``, commit 25966fb, MIT)
  without its titles, descriptions and comments.

The Threagile models are the shared reference data (``../shared/data/threatmodels``, from
Threagile/threagile ``demo/``, MIT).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shieldwall.errors import InputError
from shieldwall.threatmodel.importers import IMPORTERS, ImportResult, dump_model, import_model
from shieldwall.threatmodel.model import parse_model
from shieldwall.threatmodel.schemas import ThreatModelSpec
from shieldwall.threatmodel.service import analyse
from shieldwall.threatmodel.tmbom_export import export_tmbom
from tests.conftest import fixture, shared_data
from tests.mutate import paths, replace

FIXTURES = {
    "pytm": fixture("threatmodels", "pytm-sample.json"),
    "threat-dragon": fixture("threatmodels", "threat-dragon-demo.json"),
    "threat-dragon-boxes": fixture("threatmodels", "threat-dragon-three-tier.json"),
    "tmbom": fixture("threatmodels", "huskyai.tmbom.json"),
}
SOURCE = {"threat-dragon-boxes": "threat-dragon"}


def _threagile(name: str = "threagile-example.yaml") -> ImportResult:
    return import_model(shared_data("threatmodels", name), "threagile")


def _fixture(key: str) -> ImportResult:
    return import_model(FIXTURES[key], SOURCE.get(key, key))


def _by_id(elements: list[Any]) -> dict[str, Any]:
    return {element.id: element for element in elements}


def _flow(spec: ThreatModelSpec, name: str) -> Any:
    return next(flow for flow in spec.flows if flow.name == name)


def _written(tmp_path: Path, result: ImportResult) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(dump_model(result.spec, imported_from=result.origin, notes=result.notes))
    return path


def _refused(tmp_path: Path, source: str, content: str, name: str = "model.json") -> str:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        import_model(path, source)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


# -- Threagile ------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_threagile_example_keeps_its_architecture() -> None:
    spec = _threagile().spec
    assert (len(spec.components), len(spec.flows), len(spec.boundaries)) == (14, 20, 5)
    assert len(spec.assets) == 12
    components, boundaries = _by_id(spec.components), _by_id(spec.boundaries)

    # trust boundaries nest, and an asset sits in the innermost one that lists it
    assert boundaries["web-dmz"].parent == "application-network"
    assert boundaries["web-dmz"].type == "network_segment"
    web_dmz = {c.id for c in spec.components if c.boundary == "web-dmz"}
    assert web_dmz == {"apache-webserver", "marketing-cms"}
    assert components["load-balancer"].boundary == "application-network"
    assert components["customer-client"].boundary is None

    # the technology decides the component type
    assert components["apache-webserver"].type == "web_application"
    assert components["ldap-auth-server"].type == "identity_provider"
    assert components["jenkins-build-server"].type == "ci_cd"
    assert components["load-balancer"].type == "gateway"
    assert components["customer-client"].type == "browser"
    assert components["customer-client"].exposure == "internet"
    assert components["customer-client"].out_of_scope_reason == (
        "Owned and managed by end-user customer"
    )
    assert components["sql-database"].controls == ["field-level-encryption"]
    assert components["ldap-auth-server"].controls == ["encryption-at-rest"]


@pytest.mark.shared_data
def test_threagile_links_and_data_assets() -> None:
    spec = _threagile().spec
    database = _flow(spec, "Database Traffic")
    assert (database.source, database.target) == ("erp-system", "sql-database")
    assert (database.protocol, database.authentication, database.authorization) == (
        "sql",
        "credentials",
        "technical_user",
    )
    assert "customer-accounts" in database.sends
    assert _flow(spec, "ERP Internal Access").controls == ["vpn"]
    assert _flow(spec, "Customer Traffic").authentication == "session"
    assert _flow(spec, "Git Repo Code Read Access").readonly
    # two links between the same pair keep apart by their names
    assert {
        f.id for f in spec.flows if f.target == "git-repo" and f.source == "external-dev-client"
    } == {
        "git-repo-code-write-access",
        "git-repo-web-ui-access",
    }

    assets = _by_id(spec.assets)
    assert assets["customer-accounts"].confidentiality == "critical"  # strictly-confidential
    assert assets["customer-accounts"].data_classes == ["credentials"]
    assert assets["client-application-code"].confidentiality == "low"  # public
    assert assets["server-application-code"].integrity == "critical"  # mission-critical
    # YAML merge keys (<<: *customer-contracts) carry the base's ratings over
    assert assets["customer-operational-data"].integrity == "high"


@pytest.mark.shared_data
def test_threagile_notes_name_what_was_not_imported() -> None:
    result = _threagile()
    notes = " | ".join(result.notes)
    assert "6 risk_tracking entries not imported" in notes
    assert "shared runtime 'WebApp and Backoffice Virtualization'" in notes
    assert "Ransomware" in notes  # abuse cases are listed, not imported
    assert "How are the admin clients managed/protected against compromise?" in notes
    answered = [a.text for a in result.spec.assumptions]
    assert any("development clients" in text and "Managed by XYZ" in text for text in answered)


@pytest.mark.shared_data
def test_threagile_import_is_a_model_that_analyses(tmp_path: Path) -> None:
    result = _threagile()
    path = _written(tmp_path, result)
    analysis = analyse(path)
    ids = {threat.id for threat in analysis.threats}
    # HTTP from the load balancer into the web DMZ
    assert "unencrypted-flow-across-boundary:flows/load-balancer-to-apache-webserver" in ids
    # the HTTPS link from the customer's browser is not
    assert not any(
        i.endswith("flows/customer-client-to-load-balancer") and "unencrypted" in i for i in ids
    )


@pytest.mark.shared_data
def test_threagile_stub_imports() -> None:
    spec = _threagile("threagile-stub.yaml").spec
    assert [c.id for c in spec.components] == ["some-component", "some-other-component"]
    assert [b.id for b in spec.boundaries] == ["some-network"]
    assert spec.components[0].features == ["xml_parsing"]


# -- pytm -----------------------------------------------------------------------------------


def test_pytm_sample() -> None:
    result = _fixture("pytm")
    spec = result.spec
    assert [a.id for a in spec.actors] == ["user"]
    components = _by_id(spec.components)
    assert {c: components[c].type for c in components} == {
        "web-server": "web_application",
        "sql-database": "database",
        "real-identity-database": "database",
        "aws-lambda": "function",
        "payment-provider": "external_service",
        "notification-mailer": "process",
    }
    assert _by_id(spec.boundaries)["server-db"].parent == "aws-vpc"
    assert components["sql-database"].boundary == "server-db"
    assert "hardened-config" in components["web-server"].controls  # pytm 1.1-style attribute
    assert "encryption-at-rest" in components["real-identity-database"].controls

    # responses are folded into their requests: 8 pytm flows, 6 model flows
    assert len(spec.flows) == 6
    insert = _flow(spec, "Insert query with comments")
    assert insert.protocol == "sql"
    assert insert.receives == ["web-server-retrieves-comments-from-db"]
    charge = _flow(spec, "Charge card")
    assert (charge.protocol, charge.authentication, charge.authorization) == (
        "https",
        "credentials",
        "technical_user",
    )
    assert _by_id(spec.assets)["card-details"].data_classes == ["pii"]
    assert _by_id(spec.assets)["payment-api-key"].data_classes == ["credentials"]
    queue = _flow(spec, "Queue notification")
    assert (queue.protocol, queue.encrypted, queue.controls) == ("amqp", True, ["vpn"])

    notes = " | ".join(result.notes)
    assert "147 pytm findings not imported" in notes
    assert "Retrieve comments, Show comments (*)" in notes
    assert "authenticatesDestination" in notes


# -- Threat Dragon --------------------------------------------------------------------------


def test_threat_dragon_demo() -> None:
    result = _fixture("threat-dragon")
    spec = result.spec
    assert [a.id for a in spec.actors] == ["browser"]
    assert len(spec.components) == 6
    components = _by_id(spec.components)
    assert components["database"].type == "log_store"  # isALog
    assert components["web-application-config"].out_of_scope
    assert components["worker-config"].stores == ["worker-config-credentials"]
    assert components["web-application"].exposure == "internet"  # isPublicNetwork
    # 10 flows drawn; 2 are out of scope; "Web Request" starts 10px off the Browser
    assert len(spec.flows) == 8
    request = _flow(spec, "Web Request")
    assert (request.source, request.protocol) == ("browser", "https")
    assert _flow(spec, "Queries").encrypted is True
    notes = " | ".join(result.notes)
    assert "loose source end was attached to 'Browser'" in notes
    assert "flows drawn across it: Web Response, Web Request" in notes
    assert "14 threats written in Threat Dragon not imported" in notes


def test_threat_dragon_boxes_give_membership() -> None:
    spec = _fixture("threat-dragon-boxes").spec
    members = {c.id: c.boundary for c in spec.components}
    assert members == {
        "web-ui": "internet",
        "web-service": "public-cloud",
        "postgressql": "public-cloud",
    }
    assert [b.name for b in spec.boundaries] == ["Internet", "Public Cloud"]


def _cell(
    cell_id: str, shape: str, kind: str, x: float, y: float, w: float, h: float
) -> dict[str, Any]:
    return {
        "id": cell_id,
        "shape": shape,
        "position": {"x": x, "y": y},
        "size": {"width": w, "height": h},
        "data": {"type": kind, "name": cell_id.title()},
    }


def _threat_dragon(cells: list[dict[str, Any]]) -> str:
    return json.dumps({"summary": {"title": "t"}, "detail": {"diagrams": [{"cells": cells}]}})


def test_threat_dragon_nested_boxes(tmp_path: Path) -> None:
    path = tmp_path / "nested.json"
    path.write_text(
        _threat_dragon(
            [
                _cell("cloud", "trust-boundary-box", "tm.BoundaryBox", 0, 0, 1000, 600),
                _cell("vpc", "trust-boundary-box", "tm.BoundaryBox", 100, 100, 500, 400),
                _cell("api", "process", "tm.Process", 200, 200, 100, 100),
                _cell("cdn", "process", "tm.Process", 800, 200, 100, 100),
            ]
        )
    )
    spec = import_model(path, "threat-dragon").spec
    assert _by_id(spec.boundaries)["vpc"].parent == "cloud"
    assert {c.id: c.boundary for c in spec.components} == {"api": "vpc", "cdn": "cloud"}


# -- TM-BOM ---------------------------------------------------------------------------------


def test_tmbom_huskyai() -> None:
    result = _fixture("tmbom")
    spec = result.spec
    assert (len(spec.actors), len(spec.components), len(spec.flows)) == (4, 13, 23)
    assert [b.id for b in spec.boundaries] == ["prod-zone", "experimental-zone"]
    components = _by_id(spec.components)
    assert components["bastion"].boundary == "prod-zone"
    assert components["api-key-storage"].type == "secret_store"  # Azure Key Vault
    assert components["api-key-storage"].stores == ["api-keys"]
    assert "encryption-at-rest" in components["api-key-storage"].controls
    assert _by_id(spec.assets)["api-keys"].data_classes == ["credentials"]
    actors = _by_id(spec.actors)
    assert actors["infrastructure-admin"].trust == "privileged"
    assert actors["azure-cognitive-services"].trust == "partner"
    user = next(f for f in spec.flows if f.id == "user-api-gateway")
    # the trust boundary between "public" and the production zone asks for SSO
    assert (user.protocol, user.authentication) == ("https", "sso")
    assert spec.assumptions[0].validated
    notes = " | ".join(result.notes)
    assert "uploaded-images on uploaded-images-redis" in notes
    assert "bastion (data_store, is a component)" in notes
    assert "not imported: threats (2), controls (2), risks (1), threat personas (2)" in notes


# -- every importer -------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_import_reads_back_and_analyses(key: str, tmp_path: Path) -> None:
    result = _fixture(key)
    text = dump_model(result.spec, imported_from=result.origin, notes=result.notes)
    assert parse_model(Path("model.yaml"), text).spec == result.spec
    assert analyse(_written(tmp_path, result)).threats


@pytest.mark.shared_data
def test_threagile_reads_back(tmp_path: Path) -> None:
    result = _threagile()
    assert parse_model(Path("m.yaml"), dump_model(result.spec)).spec == result.spec


def test_dumped_model_is_short_and_says_where_it_came_from() -> None:
    result = _fixture("pytm")
    text = dump_model(result.spec, imported_from=result.origin, notes=result.notes)
    assert text.startswith("# Imported from pytm file pytm-sample.json")
    assert "# - 147 pytm findings not imported" in text
    document = yaml.safe_load(text)
    assert list(document)[:3] == ["shieldwall_threat_model", "title", "description"]
    assert list(document).index("assets") < list(document).index("flows")
    # defaults are left out: no "exposure: internal", no "usage: business"
    assert "exposure" not in document["components"][0]
    assert all("usage" not in flow for flow in document["flows"])


def test_unknown_source_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="threagile, pytm, threat-dragon, tmbom"):
        import_model(tmp_path / "x.json", "visio")
    assert set(IMPORTERS) == {"threagile", "pytm", "threat-dragon", "tmbom"}


# -- TM-BOM export --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tmbom_schema() -> Any:
    schema = json.loads(fixture("threatmodels", "tmbom-1.0.1.schema.json").read_text())
    # the schema's dates are a oneOf of two formats: only checking formats tells them apart
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@pytest.mark.parametrize("key", sorted(FIXTURES))
def test_tmbom_export_is_valid_and_round_trips(key: str, tmp_path: Path, tmbom_schema: Any) -> None:
    result = _fixture(key)
    analysis = analyse(_written(tmp_path, result))
    document = export_tmbom(analysis)
    errors = [str(e).splitlines()[0] for e in tmbom_schema.iter_errors(document)]
    assert errors == []
    exported = tmp_path / "model.tmbom.json"
    exported.write_text(json.dumps(document))
    assert import_model(exported, "tmbom").spec == result.spec


@pytest.mark.shared_data
def test_tmbom_export_of_threagile_example(tmp_path: Path, tmbom_schema: Any) -> None:
    result = _threagile()
    analysis = analyse(_written(tmp_path, result))
    document = export_tmbom(analysis)
    assert tmbom_schema.is_valid(document)
    threat_id = "unencrypted-flow-across-boundary:flows/load-balancer-to-apache-webserver"
    name = "unencrypted-flow-across-boundary--flows-load-balancer-to-apache-webserver"
    threat = next(t for t in document["threats"] if t["symbolic_name"] == name)
    assert threat["weaknesses"] == [{"cwe_id": 319}]
    assert {"capec_id": 157} in threat["attack_mechanisms"]
    assert threat["components_affected"] == ["load-balancer-to-apache-webserver"]
    assert "information disclosure" in threat["event"]
    risk = next(r for r in document["risks"] if r["threats"] == [name])
    original = next(t for t in analysis.threats if t.id == threat_id)
    assert (risk["score"], risk["level"]) == (original.residual.score, original.residual.level.word)
    state = document["extensions"]["github.com/shieldwall/shieldwall/tmbom"]["threats"][name]
    assert (state["id"], state["status"]) == (threat_id, "open")
    # controls: where a mitigating control is in place and where it is missing
    by_name = {c["symbolic_name"]: c for c in document["controls"]}
    assert by_name["encryption-in-transit-missing"]["status"] == "suggested"
    assert name in by_name["encryption-in-transit-missing"]["threats"]
    states = document["extensions"]["github.com/shieldwall/shieldwall/tmbom"]["threats"]
    mitigated = {t.id for t in analysis.threats if t.status == "mitigated"}
    assert mitigated
    assert {s["id"] for s in states.values() if s["status"] == "mitigated"} == mitigated
    # the same model exports the same names
    assert export_tmbom(analysis) == document
    exported = tmp_path / "example.tmbom.json"
    exported.write_text(json.dumps(document))
    assert import_model(exported, "tmbom").spec == result.spec


def test_tmbom_edits_made_elsewhere_win_over_the_extension(tmp_path: Path) -> None:
    result = _fixture("pytm")
    document = export_tmbom(analyse(_written(tmp_path, result)))
    component = next(c for c in document["components"] if c["symbolic_name"] == "web-server")
    component["title"] = "Comment Service"
    document["data_flows"] = [
        f for f in document["data_flows"] if f["symbolic_name"] != "web-server-to-payment-provider"
    ]
    exported = tmp_path / "edited.json"
    exported.write_text(json.dumps(document))
    spec = import_model(exported, "tmbom").spec
    assert _by_id(spec.components)["web-server"].name == "Comment Service"
    assert _by_id(spec.components)["web-server"].type == "web_application"  # from the extension
    assert len(spec.flows) == len(result.spec.flows) - 1


# -- hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["pytm", "threat-dragon", "tmbom"])
def test_not_json(source: str, tmp_path: Path) -> None:
    assert "not valid JSON" in _refused(tmp_path, source, "{'not': json")


def test_not_yaml(tmp_path: Path) -> None:
    assert "not valid YAML" in _refused(tmp_path, "threagile", "title: [unclosed", "m.yaml")


@pytest.mark.parametrize("source", ["pytm", "threat-dragon", "tmbom"])
def test_deep_nesting(source: str, tmp_path: Path) -> None:
    assert "nested deeper than" in _refused(tmp_path, source, "[" * 100_000 + "]" * 100_000)


def test_deep_nesting_yaml(tmp_path: Path) -> None:
    assert "nested deeper than" in _refused(tmp_path, "threagile", "a: " + "[" * 5000, "m.yaml")


def test_alias_bomb_yaml(tmp_path: Path) -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)
    ]
    lines.append("<<: *i")
    assert "more than" in _refused(tmp_path, "threagile", "\n".join(lines), "m.yaml")


@pytest.mark.parametrize(
    ("source", "content", "problem"),
    [
        ("pytm", "[1, 2]", "expected a mapping"),
        ("pytm", '{"elements": {"a": 1}}', "elements: expected a list"),
        ("threat-dragon", '{"detail": {"diagrams": [{"cells": "x"}]}}', "cells: expected a list"),
        ("tmbom", '{"scope": {}, "data_flows": [1]}', "data_flows[0]: expected a mapping"),
        ("threagile", "technical_assets: [a, b]", "technical_assets: expected a mapping"),
        ("pytm", '{"a": 1, "a": 2}', "duplicate key"),
        ("pytm", '{"flows": [], "x": NaN}', "NaN"),
        ("tmbom", '{"pytm": "elements"}', "not a TM-BOM"),
    ],
)
def test_wrong_shape(source: str, content: str, problem: str, tmp_path: Path) -> None:
    assert problem in _refused(tmp_path, source, content)


def test_flow_to_a_missing_element(tmp_path: Path) -> None:
    pytm = {
        "elements": [{"__class__": "Server", "name": "Web"}],
        "flows": [{"name": "f", "source": "Web", "sink": "Nope"}],
    }
    assert "sink 'Nope' is not an element" in _refused(tmp_path, "pytm", json.dumps(pytm))

    cells = [_cell("web", "process", "tm.Process", 0, 0, 100, 100)]
    cells.append(
        {
            "id": "f",
            "shape": "flow",
            "data": {"type": "tm.Flow", "name": "f"},
            "source": {"cell": "web"},
            "target": {"cell": "gone"},
        }
    )
    assert "target 'gone' is no cell" in _refused(tmp_path, "threat-dragon", _threat_dragon(cells))

    tmbom = json.loads(FIXTURES["tmbom"].read_text())
    tmbom["data_flows"][0]["destination"]["object"] = "nowhere"
    assert "'nowhere' is no actor, component or store" in _refused(
        tmp_path, "tmbom", json.dumps(tmbom)
    )

    threagile = {
        "technical_assets": {"A": {"id": "a", "communication_links": {"L": {"target": "b"}}}}
    }
    message = _refused(tmp_path, "threagile", yaml.safe_dump(threagile), "m.yaml")
    assert "communication link 'L' of 'A': target 'b' is not a technical asset" in message


def test_threagile_refers_to_a_missing_data_asset(tmp_path: Path) -> None:
    model = {"technical_assets": {"A": {"id": "a", "data_assets_processed": ["ghost"]}}}
    message = _refused(tmp_path, "threagile", yaml.safe_dump(model), "m.yaml")
    assert "names 'ghost', which is not a data asset" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        import_model(tmp_path / "nothing.json", "pytm")


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
SMALL = {
    "threat-dragon": FIXTURES["threat-dragon-boxes"],
    "tmbom": FIXTURES["tmbom"],
    "pytm": FIXTURES["pytm"],
    "threagile": None,  # the shared stub, when present
}


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(s, marks=[pytest.mark.shared_data] if SMALL[s] is None else [])
        for s in sorted(SMALL)
    ],
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_files_are_read_or_refused(
    source: str, tmp_path: Path, data: st.DataObject
) -> None:
    """A value of the wrong type anywhere is an import or a one-line refusal, never a crash."""
    original = SMALL[source] or shared_data("threatmodels", "threagile-stub.yaml")
    document = yaml.safe_load(original.read_text())
    if source == "pytm":  # pytm's findings are thousands of places nothing reads
        document["findings"] = document["findings"][:2]
    target = data.draw(st.sampled_from(paths(document, width=3)))
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(replace(document, target, data.draw(values)), default=str))
    problem = ""
    try:
        result = import_model(path, source)
    except InputError as exc:
        problem = str(exc)
    assert "\n" not in problem
    if not problem:
        assert parse_model(path, dump_model(result.spec)).spec == result.spec
