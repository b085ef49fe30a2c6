"""Threat model checking at scale, side by side with OWASP pytm:
``python -m benchmarks.threatmodel [--components N] [--flows N] [--repeat N]``.

Target: a model of 1,000 elements and 3,000 flows is checked (YAML read and validated, every
built-in rule run, risk computed) in under 2 s on a 2-core machine.

The model is generated (seeded, so every run sees the same one): 1,000 elements — 40 trust
boundaries (10 networks with 3 segments each), 30 actors, 20 data assets and 910 components
of every type, spread over the boundaries with features and controls drawn at random — and
3,000 flows between them with protocols, authentication and data drawn at random. It is
written to a temporary YAML file and checked as ``shieldwall threatmodel check`` does
(``service.analyse``), in a child process per run so each peak RSS is that run's own.

pytm runs on the same model in the same way: the same elements as pytm's classes (Actor,
Server, Process, Lambda, Datastore, ExternalEntity in the same Boundaries), the same flows as
Dataflows with the same protocol and encryption, then ``TM.resolve()`` (its threat
evaluation). The ratio of the medians is printed.

Then the rules run over Threagile's example model (../shared/data/threatmodels/
threagile-example.yaml, imported with ``threatmodel import --from threagile``) and the
Markdown report is printed: what fires there, as a reviewer would read it.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from shieldwall.threatmodel.vocabulary import (
    Authentication,
    ComponentType,
    DataClass,
    Exposure,
    Feature,
    Protocol,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "threatmodels"
_CONTROLS = ("encryption-in-transit", "authentication", "authorization", "input-validation",
             "audit-logging", "rate-limiting", "encryption-at-rest", "least-privilege")  # fmt: skip


def generate(components: int, flows: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    boundaries = []
    for network in range(10):
        boundaries.append({"id": f"net-{network}", "type": "network"})
        boundaries += [
            {"id": f"seg-{network}-{s}", "type": "network_segment", "parent": f"net-{network}"}
            for s in range(3)
        ]
    assets = [
        {"id": f"data-{i}", "data_classes": [str(rng.choice(list(DataClass)))]} for i in range(20)
    ]
    actors = [
        {"id": f"actor-{i}", "trust": rng.choice(["untrusted", "authenticated", "internal"])}
        for i in range(30)
    ]
    types = list(ComponentType)
    nodes = []
    for i in range(components):
        kind = rng.choice(types)
        node: dict[str, Any] = {
            "id": f"c-{i}",
            "type": str(kind),
            "boundary": rng.choice(boundaries)["id"],
            "exposure": str(Exposure.INTERNET if rng.random() < 0.1 else Exposure.INTERNAL),
            "features": rng.sample([str(f) for f in Feature], 2),
            "controls": rng.sample(_CONTROLS, rng.randint(0, 3)),
        }
        if kind in (ComponentType.DATABASE, ComponentType.OBJECT_STORAGE, ComponentType.CACHE):
            node["stores"] = [rng.choice(assets)["id"]]
        nodes.append(node)
    ends = [a["id"] for a in actors] + [n["id"] for n in nodes]
    edges = []
    for i in range(flows):
        source, target = rng.sample(ends, 2)
        if target.startswith("actor") and source.startswith("actor"):
            target = rng.choice(nodes)["id"]
        edges.append(
            {
                "id": f"f-{i}",
                "source": source,
                "target": target,
                "protocol": str(
                    rng.choice(
                        [Protocol.HTTPS, Protocol.HTTP, Protocol.SQL, Protocol.GRPCS, Protocol.AMQP]
                    )
                ),
                "authentication": str(rng.choice(list(Authentication))),
                "sends": [rng.choice(assets)["id"]] if rng.random() < 0.5 else [],
            }
        )
    return {
        "shieldwall_threat_model": 1,
        "title": "Generated",
        "assets": assets,
        "actors": actors,
        "boundaries": boundaries,
        "components": nodes,
        "flows": edges,
    }


def _child_shieldwall(path: Path) -> dict[str, Any]:
    from shieldwall.threatmodel.service import analyse

    started = time.perf_counter()
    analysis = analyse(path)
    return {"seconds": time.perf_counter() - started, "threats": len(analysis.threats)}


_PYTM_CLASS = {
    "browser": "ExternalEntity",
    "mobile_client": "ExternalEntity",
    "desktop_client": "ExternalEntity",
    "device": "ExternalEntity",
    "external_service": "ExternalEntity",
    "function": "Lambda",
    "database": "Datastore",
    "object_storage": "Datastore",
    "file_system": "Datastore",
    "cache": "Datastore",
    "secret_store": "Datastore",
    "log_store": "Datastore",
    "process": "Process",
    "scheduler": "Process",
}


def _child_pytm(path: Path) -> dict[str, Any]:
    import pytm

    model = yaml.safe_load(path.read_text())
    started = time.perf_counter()
    tm = pytm.TM("generated")
    boundaries: dict[str, Any] = {}
    for spec in model["boundaries"]:
        boundary = pytm.Boundary(spec["id"])
        if spec.get("parent"):
            boundary.inBoundary = boundaries[spec["parent"]]
        boundaries[spec["id"]] = boundary
    elements: dict[str, Any] = {}
    for spec in model["actors"]:
        elements[spec["id"]] = pytm.Actor(spec["id"])
    for spec in model["components"]:
        kind = getattr(pytm, _PYTM_CLASS.get(spec["type"], "Server"))
        element = kind(spec["id"])
        element.inBoundary = boundaries[spec["boundary"]]
        elements[spec["id"]] = element
    for spec in model["flows"]:
        flow = pytm.Dataflow(elements[spec["source"]], elements[spec["target"]], spec["id"])
        flow.protocol = spec["protocol"].upper()
        flow.controls.isEncrypted = spec["protocol"] in ("https", "grpcs")
    tm.resolve()
    return {"seconds": time.perf_counter() - started, "threats": len(tm.findings)}


def child(which: str, path: Path) -> None:
    result = _child_shieldwall(path) if which == "shieldwall" else _child_pytm(path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run(which: str, path: Path, timeout: float) -> dict[str, Any] | None:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.threatmodel", "--child", which, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"{which} failed: {exc.stderr.strip().splitlines()[-1:]}") from None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def threagile_report() -> str | None:
    source = SHARED / "threagile-example.yaml"
    if not source.is_file():
        return None
    from shieldwall.threatmodel.importers import dump_model, import_model
    from shieldwall.threatmodel.report import markdown
    from shieldwall.threatmodel.service import analyse

    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "threagile-example.yaml"
        model.write_text(dump_model(import_model(source, "threagile").spec))
        return markdown(analyse(model))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], Path(argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=910)
    parser.add_argument("--flows", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pytm-timeout", type=float, default=600.0)
    parser.add_argument("--no-threagile", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.yaml"
        model = generate(args.components, args.flows)
        path.write_text(yaml.safe_dump(model, sort_keys=False))
        elements = sum(len(model[k]) for k in ("assets", "actors", "boundaries", "components"))
        print(
            f"threat model: {elements} elements, {len(model['flows'])} flows, "
            f"{path.stat().st_size / 1e6:.1f} MB of YAML"
        )
        ours = [_run("shieldwall", path, 600.0) for _ in range(args.repeat)]
        times = [r["seconds"] for r in ours if r]
        print(
            f"  shieldwall threatmodel check: median {statistics.median(times):.2f} s "
            f"(fastest {min(times):.2f} s), {ours[0]['threats'] if ours[0] else 0} threats, "
            f"peak RSS {max(r['peak_rss_mb'] for r in ours if r):.0f} MB (target < 2 s)"
        )
        theirs = _run("pytm", path, args.pytm_timeout)
        if theirs is None:
            print(f"  pytm TM.resolve(): did not finish in {args.pytm_timeout:.0f} s")
        else:
            print(
                f"  pytm TM.resolve(): {theirs['seconds']:.2f} s, {theirs['threats']} findings, "
                f"peak RSS {theirs['peak_rss_mb']:.0f} MB; "
                f"shieldwall is {theirs['seconds'] / statistics.median(times):.1f}x faster"
            )
    if not args.no_threagile:
        report = threagile_report()
        if report is None:
            print(f"Threagile example: {SHARED} is missing, skipped")
        else:
            print("\nThreagile's example model, as Shieldwall reviews it:\n")
            print(report)


if __name__ == "__main__":
    main()
