"""The facts rules read about each element, on small models where the answer is plain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shieldwall.threatmodel.controls import catalogue
from shieldwall.threatmodel.facts import SCHEMAS, ModelIndex
from shieldwall.threatmodel.schemas import ThreatModelSpec

# A shop: a customer's browser → CDN → web → API → database; the API queues jobs that a
# worker pulls; a scheduler feeds a report job; a partner calls an import API; one data
# store sits in the same zone as the internet-facing CDN.
SHOP: dict[str, Any] = {
    "shieldwall_threat_model": 1,
    "title": "Shop",
    "assets": [{"id": "orders", "data_classes": ["pii"]}],
    "actors": [{"id": "partner", "trust": "partner", "human": False}],
    "boundaries": [{"id": "edge"}, {"id": "app"}, {"id": "data"}],
    "components": [
        {"id": "browser", "type": "browser"},
        {"id": "cdn", "type": "gateway", "boundary": "edge", "exposure": "internet"},
        {"id": "edge-cache", "type": "cache", "boundary": "edge"},
        {"id": "web", "type": "web_application", "boundary": "app"},
        {"id": "api", "type": "api", "boundary": "app"},
        {"id": "db", "type": "database", "boundary": "data", "stores": ["orders"]},
        {"id": "jobs", "type": "queue", "boundary": "data"},
        {"id": "worker", "type": "process", "boundary": "app"},
        {"id": "reporter", "type": "process", "boundary": "app"},
        {"id": "cron", "type": "scheduler", "boundary": "app"},
        {"id": "importer", "type": "api", "boundary": "app"},
        {"id": "bank", "type": "external_service"},
        {"id": "notifier", "type": "process", "boundary": "app"},
    ],
    "flows": [
        {"source": "browser", "target": "cdn", "authentication": "session"},
        {"source": "cdn", "target": "web", "authentication": "session"},
        {
            "source": "web",
            "target": "api",
            "authentication": "token",
            "authorization": "end_user",
        },
        {"source": "api", "target": "db", "protocol": "sql_tls", "sends": ["orders"]},
        {"source": "api", "target": "jobs", "protocol": "amqps", "sends": ["orders"]},
        {"source": "worker", "target": "jobs", "protocol": "amqps", "receives": ["orders"]},
        {"source": "cron", "target": "reporter"},
        {"source": "reporter", "target": "db", "protocol": "sql_tls", "readonly": True},
        {"source": "partner", "target": "importer", "authentication": "client_certificate"},
        {"source": "api", "target": "bank", "authentication": "api_key"},
        {"source": "bank", "target": "notifier"},
    ],
}


def facts(model: dict[str, Any]) -> dict[str, Mapping[str, Any]]:
    index = ModelIndex(ThreatModelSpec.model_validate(model), catalogue())
    return {element.path: element.facts for element in index.elements()}


def test_every_element_has_exactly_the_declared_facts() -> None:
    index = ModelIndex(ThreatModelSpec.model_validate(SHOP), catalogue())
    for element in index.elements():
        assert set(element.facts) == set(SCHEMAS[element.kind]), element.path


def test_reachable_from_untrusted_follows_flows_through_processes_and_queues() -> None:
    found = facts(SHOP)
    reached = {
        path.removeprefix("components/")
        for path, f in found.items()
        if path.startswith("components/") and f["reachable_from_untrusted"]
    }
    # The client itself, everything downstream of it, and the worker that pulls from the
    # queue; not the scheduler's report job, the partner's importer, or what a third party
    # calls (its input is the partner's, not the attacker's).
    assert reached == {"browser", "cdn", "web", "api", "db", "jobs", "worker", "bank"}
    assert found["flows/web-to-api"]["source"]["reachable_from_untrusted"] is True
    assert found["flows/partner-to-importer"]["source"]["reachable_from_untrusted"] is False


def test_an_internet_entry_point_makes_its_component_reachable() -> None:
    model = {
        "shieldwall_threat_model": 1,
        "title": "Entry",
        "components": [{"id": "hook", "type": "api"}, {"id": "store", "type": "database"}],
        "flows": [{"source": "hook", "target": "store"}],
        "entry_points": [{"id": "webhook", "component": "hook", "exposure": "internet"}],
    }
    found = facts(model)
    assert found["components/hook"]["reachable_from_untrusted"] is True
    assert found["components/store"]["reachable_from_untrusted"] is True


def test_inbound_and_outbound_summaries() -> None:
    found = facts(SHOP)
    api = found["components/api"]
    assert api["inbound_authentications"] == ["token"]
    assert api["inbound_authorizations"] == ["end_user"]
    assert api["inbound_source_types"] == ["web_application"]
    assert api["outbound_protocols"] == ["amqps", "https", "sql_tls"]
    assert api["outbound_target_types"] == ["database", "external_service", "queue"]
    assert found["components/importer"]["inbound_source_types"] == ["actor"]
    assert found["components/cdn"]["inbound_source_types"] == ["browser"]


def test_in_exposed_zone_marks_components_sharing_a_boundary_with_the_internet() -> None:
    found = facts(SHOP)
    assert found["components/edge-cache"]["in_exposed_zone"] is True
    assert found["components/cdn"]["in_exposed_zone"] is True
    assert found["components/db"]["in_exposed_zone"] is False
    assert found["components/browser"]["in_exposed_zone"] is False


def test_custom_component_count() -> None:
    # web, api, worker, reporter, importer, notifier (processes, APIs and web applications
    # default to custom code; the rest do not).
    assert facts(SHOP)["model"]["custom_component_count"] == 6
