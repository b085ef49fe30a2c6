"""Deterministic benchmark reports, written as streams (a 1 GB report is never in memory)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

RULES = 200


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": f"bench.rule-{r}",
            "shortDescription": {"text": f"Benchmark rule {r}"},
            "fullDescription": {"text": f"Rule {r} finds a pattern that may be exploitable."},
            "defaultConfiguration": {"level": ("error", "warning", "note")[r % 3]},
            "properties": {"tags": ["security", f"external/cwe/cwe-{79 + r % 50}"]},
        }
        for r in range(RULES)
    ]


def semgrep_result(i: int, files: int) -> dict[str, Any]:
    """A Semgrep-shaped result: no tool fingerprints, so identity is content-based."""
    return {
        "ruleId": f"bench.rule-{i % RULES}",
        "message": {"text": f"User input reaches a sensitive sink in handler_{i % 97}."},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": f"src/pkg{(i % files) // 100}/module_{i % files}.py",
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": {
                        "startLine": 10 + (i // files),
                        "endLine": 10 + (i // files),
                        "snippet": {"text": f"    result_{i} = sink(request.args['p{i}'])"},
                    },
                }
            }
        ],
    }


def codeql_result(i: int, files: int) -> dict[str, Any]:
    """A CodeQL-shaped path-problem result: line-hash fingerprints and a code flow."""
    uri = f"src/pkg{(i % files) // 100}/module_{i % files}.py"
    steps = [
        {
            "location": {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 5 + s, "startColumn": 9, "endColumn": 40},
                },
                "message": {"text": f"step {s}: value flows through call_{i}_{s}"},
            }
        }
        for s in range(6)
    ]
    return {
        "ruleId": f"bench.rule-{i % RULES}",
        "ruleIndex": i % RULES,
        "message": {"text": f"This query depends on a [user-provided value](1) in handler_{i}."},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 10 + i // files, "startColumn": 5, "endColumn": 60},
                }
            }
        ],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{i:016x}:1",
            "primaryLocationStartColumnFingerprint": "4",
        },
        "codeFlows": [{"threadFlows": [{"locations": steps}]}],
        "relatedLocations": [
            {
                "id": 1,
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 3}},
                "message": {"text": "user-provided value"},
            }
        ],
    }


def write_sarif(path: Path, indices: Iterator[int], *, files: int, shape: str = "semgrep") -> Path:
    make = semgrep_result if shape == "semgrep" else codeql_result
    tool = "Semgrep OSS" if shape == "semgrep" else "CodeQL"
    tmp = path.with_suffix(".partial")
    with tmp.open("w") as out:
        head = json.dumps(
            {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0"}
        )
        out.write(head[:-1] + ', "runs": [{"tool": ')
        json.dump({"driver": {"name": tool, "semanticVersion": "1.0.0", "rules": _rules()}}, out)
        out.write(', "results": [')
        _write_items(out, (make(i, files) for i in indices))
        out.write("]}]}")
    tmp.replace(path)
    return path


def sized_indices(target_bytes: int, files: int, shape: str) -> Iterator[int]:
    """Enough results to make a report of about ``target_bytes``."""
    make = semgrep_result if shape == "semgrep" else codeql_result
    per_result = len(json.dumps(make(123_456, files))) + 1
    return iter(range(target_bytes // per_result))


def write_cyclonedx(path: Path, components: int, vulnerabilities: Iterator[int]) -> Path:
    """Each vulnerability is a function of its index, so two files share the indices they
    both list (the same vulnerability in the same component)."""
    tmp = path.with_suffix(".partial")
    ecosystems = [
        ("pypi", "PyPI"),
        ("npm", "npm"),
        ("maven", "Maven"),
        ("golang", "Go"),
        ("cargo", "crates.io"),
    ]
    with tmp.open("w") as out:
        out.write(
            '{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, '
            '"metadata": {"tools": {"components": [{"type": "application", "name": "bench-sbom", '
            '"version": "1.0"}]}}, "components": ['
        )
        refs = []
        items = []
        for c in range(components):
            purl_type, _ = ecosystems[c % len(ecosystems)]
            name = f"org.bench.group{c % 40}/lib-{c}" if purl_type == "maven" else f"lib-{c}"
            purl = f"pkg:{purl_type}/{name}@{1 + c % 5}.{c % 10}.0"
            refs.append(purl)
            items.append(
                {
                    "type": "library",
                    "bom-ref": purl,
                    "name": name.split("/")[-1],
                    "version": f"{1 + c % 5}.{c % 10}.0",
                    "purl": purl,
                    "licenses": [{"license": {"id": "MIT"}}],
                }
            )
        _write_items(out, iter(items))
        out.write('], "vulnerabilities": [')

        def vulns() -> Iterator[dict[str, Any]]:
            for v in vulnerabilities:
                rng = random.Random(v)
                score = round(rng.uniform(2.0, 10.0), 1)
                yield {
                    "id": f"CVE-{2015 + v % 10}-{10000 + v}",
                    "source": {"name": "NVD", "url": "https://nvd.nist.gov/"},
                    "references": [
                        {"id": f"GHSA-{v:04x}-bnch-{v % 9999:04d}", "source": {"name": "GitHub"}}
                    ],
                    "ratings": [{"score": score, "severity": _band(score), "method": "CVSSv31"}],
                    "cwes": [79 + v % 60],
                    "description": f"Benchmark vulnerability {v} lets a remote attacker do harm.",
                    "recommendation": "Upgrade to a fixed version.",
                    "affects": [{"ref": refs[rng.randrange(components)]}],
                }

        _write_items(out, vulns())
        out.write("]}")
    tmp.replace(path)
    return path


def _band(score: float) -> str:
    return "critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4 else "low"


def _write_items(out: IO[str], items: Iterator[dict[str, Any]]) -> None:
    for n, item in enumerate(items):
        if n:
            out.write(",")
        out.write(json.dumps(item, separators=(",", ":")))


def write_duplicate_components(path: Path, copies: int) -> Path:
    """A CycloneDX BOM that lists one component ``copies`` times (a hostile or broken SBOM)."""
    entry = json.dumps(
        {
            "type": "library",
            "name": "left-pad",
            "version": "1.3.0",
            "purl": "pkg:npm/left-pad@1.3.0",
            "bom-ref": "pkg:npm/left-pad@1.3.0",
        },
        separators=(",", ":"),
    )
    tmp = path.with_suffix(".partial")
    with tmp.open("w") as out:
        out.write('{"bomFormat":"CycloneDX","specVersion":"1.5","components":[')
        for n in range(copies):
            out.write("," + entry if n else entry)
        out.write("]}")
    tmp.replace(path)
    return path
