"""A baseline of known secrets, keyed by rule and the secret's hash, never by place: a
secret that moves to another line or file stays known (gitleaks' baseline, keyed by line,
reports it as new), and a new secret on an old line is still new.

The file is JSON a person can review: each entry has the rule, the hash, where it was first
seen (for the reader; not part of the key) and why it is accepted. It holds no secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shieldwall.atomic import atomic_file
from shieldwall.errors import InputError
from shieldwall.scan.secrets.engine import SecretMatch

VERSION = 1
MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Baseline:
    keys: frozenset[tuple[str, str]]
    """(rule id, secret hash) pairs."""

    def known(self, match: SecretMatch) -> bool:
        return (match.rule.id, match.digest) in self.keys


def load_baseline(path: Path) -> Baseline:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError.in_file(path, f"a baseline is at most {MAX_BYTES} bytes")
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError.in_file(path, f"cannot read the baseline: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError.in_file(path, f"not a JSON baseline: {exc}") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise InputError.in_file(path, f'not a Shieldwall secrets baseline ("version": {VERSION})')
    entries = document.get("secrets")
    if not isinstance(entries, list):
        raise InputError.in_file(path, '"secrets" must be a list')
    keys = set()
    for index, entry in enumerate(entries):
        rule = entry.get("rule") if isinstance(entry, dict) else None
        digest = entry.get("hash") if isinstance(entry, dict) else None
        if not isinstance(rule, str) or not isinstance(digest, str) or len(digest) != 64:
            raise InputError.in_file(path, f"secrets[{index}] needs a rule and a 64-hex hash")
        keys.add((rule, digest.lower()))
    return Baseline(frozenset(keys))


def write_baseline(path: Path, matches: Iterable[SecretMatch]) -> int:
    """Write the baseline of ``matches``, keeping the reasons the file already gave;
    atomically, so a failed write leaves the old file whole. The number of entries."""
    reasons = _reasons(path)
    entries: dict[tuple[str, str], dict[str, object]] = {}
    for match in matches:
        key = (match.rule.id, match.digest)
        entries.setdefault(
            key,
            {
                "rule": match.rule.id,
                "hash": match.digest,
                "first_seen": f"{match.path}:{match.line}",
                "preview": match.preview,
                "reason": reasons.get(key, ""),
            },
        )
    document = {
        "version": VERSION,
        "about": "Secrets known and accepted; keyed by rule and hash (SHA-256 of SHA-1), "
        "so moving a line keeps them known. Rotate a secret before accepting it here.",
        "secrets": [entries[key] for key in sorted(entries)],
    }
    with atomic_file(path) as out:
        json.dump(document, out, indent=2)
        out.write("\n")
    return len(entries)


def _reasons(path: Path) -> dict[tuple[str, str], str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {
            (entry["rule"], entry["hash"]): str(entry.get("reason") or "")
            for entry in document["secrets"]
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}
