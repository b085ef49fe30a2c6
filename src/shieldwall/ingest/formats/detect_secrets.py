"""detect-secrets (Yelp) baselines: ``{version, plugins_used, filters_used, results: {file:
[{type, filename, hashed_secret, is_verified, line_number, is_secret?}]}, generated_at}``, from
0.x (no ``filename`` in a result: the key names the file) to 1.x.

detect-secrets never writes the secret, only its SHA-1 (``hashed_secret``), which is passed as
``secret_sha1``: identity hashes it exactly as it hashes another tool's raw secret, so the same
secret found by gitleaks and detect-secrets in the same file is one finding.

An audit (``detect-secrets audit``) marks each result ``is_secret``: false is the team saying
"not a secret" and becomes a false positive; true stays open.

``results`` is an object keyed by file name, which ``jsonstream.items`` cannot stream (its
prefixes are fixed paths and file names are arbitrary keys), so the baseline is read whole with
``jsonstream.outline``: a baseline lists one small entry per secret of a repository, is
committed next to the code and reviewed by people, so it stays small in practice, and the
importer's size and depth limits still apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.findings.vocabulary import Status
from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import normalize_path
from shieldwall.ingest.parsing import integer, iter_dicts, mapping, rule, text, title
from shieldwall.ingest.records import RawFinding, Record, ToolRun
from shieldwall.ingest.secrets import secret_finding
from shieldwall.ingest.source import Head, ReportSource

_TOOL = "detect-secrets"
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_AUDITED_FALSE = "audited as not a secret in the baseline"


class DetectSecretsFormat:
    name = "detect-secrets"
    title = "detect-secrets baseline (Yelp)"
    syntaxes = frozenset({"json"})

    def detect(self, head: Head) -> bool:
        return head.value("") == "map" and head.has("results") and head.has("plugins_used")

    def parse(self, source: ReportSource) -> Iterator[Record]:
        document = mapping(jsonstream.outline(source))
        results = document.get("results")
        if not isinstance(results, Mapping):
            raise source.error("a detect-secrets baseline needs a results object keyed by file")
        yield ToolRun(_TOOL, text(document.get("version")))
        for filename, entries in results.items():
            for entry in iter_dicts(entries):
                yield _result(entry, filename)


def _result(entry: Mapping[str, Any], filename: str) -> RawFinding:
    kind = text(entry.get("type"))
    rule_id = rule(kind)
    hashed = text(entry.get("hashed_secret"))
    verified = entry.get("is_verified")
    audited = entry.get("is_secret")
    return secret_finding(
        tool=_TOOL,
        rule_id=rule_id,
        title=title(kind, rule_id),
        secret=None,
        secret_sha1=hashed.lower() if hashed and _SHA1.fullmatch(hashed) else None,
        path=normalize_path(text(entry.get("filename")) or filename),
        line=integer(entry.get("line_number")),
        verified=True if verified is True else None,
        facts=[("Audit", "confirmed as a real secret" if audited is True else None)],
        status=Status.FALSE_POSITIVE if audited is False else None,
        status_reason=_AUDITED_FALSE if audited is False else None,
    )


FORMAT = DetectSecretsFormat()
