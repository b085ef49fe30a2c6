"""TruffleHog JSON lines: v3 (``SourceMetadata``, ``DetectorName``, ``Verified``, ``Raw``...)
and v2 (``reason``, ``path``, ``stringsFound``...), one object per line.

A report with one finding is a single JSON document and one with several is JSON lines; both
are read as a stream of top-level values. Lines that are not findings (log lines, when a CI
job captured stderr with stdout) are skipped.

v3 ``Raw`` is the secret (``RawV2`` when there is no ``Raw``: for AWS, ``Raw`` is the key id
that other tools also report, ``RawV2`` the id and the secret key together). TruffleHog before
its JSON printer was introduced (no ``DecoderName`` field) serialised these byte fields as
base64, so they are decoded when they decode to text. ``Redacted``, ``RawV2``, ``SecretParts``,
``ExtraData`` and ``VerificationError`` can all hold (parts of) the secret and are never
copied anywhere; only ``ExtraData`` entries whose names do not suggest a credential and whose
values hold no secret part reach the description.

Every string a v2 finding lists in ``stringsFound`` is a secret; trufflehog3's legacy output
has the same shape, so ``legacy_findings`` serves both.

TruffleHog writes nothing when it finds nothing; an empty file is refused by the importer (a
scanner that writes nothing is indistinguishable from one that failed), so a clean TruffleHog
run cannot close findings.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

from shieldwall.ingest import jsonstream
from shieldwall.ingest.normalize import normalize_path
from shieldwall.ingest.parsing import integer, mapping, rule, sequence, text, title
from shieldwall.ingest.records import RawFinding, Record, ToolRun
from shieldwall.ingest.secrets import secret_finding, secret_value
from shieldwall.ingest.source import Head, ReportSource

_TOOL = "trufflehog"
_CREDENTIAL_NAME = re.compile(
    r"secret|token|pass|key|cred|auth|session|cookie|private|signature|cert", re.IGNORECASE
)
_EXTRA_MAX = 20
_DIFF_MARK = re.compile(r"^[+-](?=\s)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TrufflehogFormat:
    name = "trufflehog"
    title = "TruffleHog JSON lines (v2 and v3)"
    syntaxes = frozenset({"json", "jsonl"})
    empty_tool = _TOOL  # TruffleHog writes nothing when it finds nothing

    def detect(self, head: Head) -> bool:
        if head.value("") != "map":
            return False
        v3 = head.has("SourceMetadata") and (head.has("DetectorName") or head.has("DetectorType"))
        v2 = head.has("stringsFound") and head.has("reason")
        return v3 or v2

    def parse(self, source: ReportSource) -> Iterator[Record]:
        if source.head().value("") != "map":
            raise source.error("TruffleHog output is one JSON object per line")
        yield ToolRun(_TOOL)
        for _, item in jsonstream.objects(source, "", multiple_values=True):
            if "SourceMetadata" in item or "DetectorName" in item:
                yield _v3(item)
            elif "stringsFound" in item:
                yield from legacy_findings(item, _TOOL)


def _v3(item: Mapping[str, Any]) -> RawFinding:
    encoded = "DecoderName" not in item
    raw = _raw(item.get("Raw"), encoded)
    raw_v2 = _raw(item.get("RawV2"), encoded)
    parts = [v for v in mapping(item.get("SecretParts")).values() if isinstance(v, str) and v]
    location = _location(item.get("SourceMetadata"))
    detector = text(item.get("DetectorName")) or text(item.get("DetectorType"))
    rule_id = rule(detector)
    extra = mapping(item.get("ExtraData"))
    decoder = text(item.get("DecoderName"))
    verified = item.get("Verified") is True
    return secret_finding(
        tool=_TOOL,
        rule_id=rule_id,
        title=f"{title(detector, 'Unknown')} secret",
        secret=raw or raw_v2,
        path=normalize_path(location.get("file") or location.get("path")),
        line=integer(location.get("line")),
        verified=verified,
        summary=item.get("DetectorDescription"),
        facts=[
            ("Detector", detector),
            ("Decoded from", decoder if decoder and decoder.upper() != "PLAIN" else None),
            ("Source", item.get("SourceName")),
            ("Repository", location.get("repository")),
            ("Commit", location.get("commit")),
            ("Author", location.get("email")),
            ("Date", location.get("timestamp")),
            (
                "Verification",
                "failed with an error: the credential may be live"
                if not verified and text(item.get("VerificationError"))
                else None,
            ),
            *_extra_facts(extra),
        ],
        sensitive=[s for s in (raw, raw_v2, *parts) if s],
        links=[location.get("link"), extra.get("rotation_guide")],
    )


def _location(metadata: object) -> Mapping[str, Any]:
    """``SourceMetadata.Data`` holds one entry named after the source (Git, Github,
    Filesystem, S3, Docker...), each with its own fields; the file, line, commit and link
    keys are shared by those that have them."""
    data = mapping(mapping(metadata).get("Data"))
    for value in data.values():
        if isinstance(value, Mapping):
            return value
    return {}


def _raw(value: object, encoded: bool) -> str | None:
    found = secret_value(value)
    if found is None or not encoded:
        return found
    try:
        decoded = base64.b64decode(found, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return found
    return decoded if decoded.strip() and not _CONTROL.search(decoded) else found


def _extra_facts(extra: Mapping[str, Any]) -> list[tuple[str, object]]:
    """What the detector learnt about the credential (account, user, scopes), without the
    entries whose names say they are credentials themselves."""
    facts: list[tuple[str, object]] = []
    for key, value in extra.items():
        if len(facts) >= _EXTRA_MAX:
            break
        if key == "rotation_guide" or _CREDENTIAL_NAME.search(key):
            continue
        if isinstance(value, str):
            facts.append((key.replace("_", " ").capitalize()[:60], value))
    return facts


def legacy_findings(record: Mapping[str, Any], tool: str) -> Iterator[RawFinding]:
    """One finding per string found in a trufflehog v2 (or trufflehog3 legacy) record.

    The strings may be whole diff lines: a ``+``/``-`` mark followed by white space is dropped
    so that a line added in one commit and removed in a later one is one secret, not two (a
    mark directly followed by text is kept: ``-----BEGIN`` must stay what gitleaks reports).
    """
    found = [
        _DIFF_MARK.sub("", value, count=1).strip()
        for value in sequence(record.get("stringsFound"))
        if isinstance(value, str) and value.strip()
    ]
    # A record whose strings are all missing or redacted still reports a secret at its path.
    secrets = list(dict.fromkeys(secret_value(value) for value in found)) or [None]
    reason = text(record.get("reason"))
    rule_id = rule(reason)
    for secret in secrets:
        yield secret_finding(
            tool=tool,
            rule_id=rule_id,
            title=title(reason, rule_id),
            secret=secret,
            path=normalize_path(record.get("path")),
            line=None,
            facts=[
                ("Branch", record.get("branch")),
                ("Commit", record.get("commitHash")),
                ("Date", record.get("date")),
                ("Commit message", record.get("commit")),
            ],
            sensitive=found,
        )


FORMAT = TrufflehogFormat()
