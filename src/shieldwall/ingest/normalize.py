"""Turning each tool's vocabulary into Shieldwall's: severities, CWE and vulnerability ids,
paths, package identities and secrets. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError
from packageurl import PackageURL
from packaging.version import InvalidVersion, Version

from shieldwall.findings.vocabulary import Kind, Severity
from shieldwall.ingest.records import RawComponent
from shieldwall.text import clean

# --- severities ------------------------------------------------------------------------------

_SEVERITY_WORDS = {
    "critical": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "blocker": Severity.CRITICAL,
    "very_high": Severity.CRITICAL,
    "high": Severity.HIGH,
    "error": Severity.HIGH,
    "severe": Severity.HIGH,
    "major": Severity.HIGH,
    "important": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "warning": Severity.MEDIUM,
    "warn": Severity.MEDIUM,
    "minor": Severity.LOW,
    "low": Severity.LOW,
    "note": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "information": Severity.INFO,
    "negligible": Severity.INFO,
    "none": Severity.INFO,
    "trivial": Severity.INFO,
    # Not yet rated is not the same as harmless: an unrated CVE may be critical.
    "unknown": Severity.MEDIUM,
    "unrated": Severity.MEDIUM,
    "unspecified": Severity.MEDIUM,
}


def severity_from_text(value: object, default: Severity = Severity.MEDIUM) -> Severity:
    """A tool's severity word (any case) or CVSS-like number as a Shieldwall severity."""
    if value is None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return severity_from_score(float(value))
    text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if text in _SEVERITY_WORDS:
        return _SEVERITY_WORDS[text]
    try:
        return severity_from_score(float(text))
    except ValueError:
        return default


def rated_severity(word: str | None, score: float | None) -> tuple[Severity, str | None]:
    """The tool's rating, and the CVSS score only where the tool has none ("unknown"): an
    unrated vulnerability may be critical. Returns the severity and the tool's words."""
    if score is None or (word and word.lower() != "unknown"):
        return severity_from_text(word), word
    return severity_from_score(score), f"{word or 'unrated'}, CVSS {score:g}"


def cvss_score(value: object) -> float | None:
    """A CVSS score (a number or a numeric string) within 0-10, else None."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        score = float(value)
    except ValueError:
        return None
    return score if 0.0 <= score <= 10.0 else None


def first_positive_score(values: Iterable[object]) -> float | None:
    """The first number above zero (tools write 0 for "no score")."""
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return None


def cvss_vector_score(vector: object) -> float | None:
    """The base score of a CVSS v2, v3.x or v4 vector (computed by the ``cvss`` library)."""
    if not isinstance(vector, str) or len(vector) > 300:
        return None
    text = vector.strip()
    kind = CVSS4 if text.startswith("CVSS:4") else CVSS3 if text.startswith("CVSS:3") else CVSS2
    try:
        return float(kind(text).base_score)
    except (CVSSError, ValueError, KeyError, IndexError):
        return None


def severity_from_score(score: float) -> Severity:
    """CVSS bands (also GitHub's ``security-severity`` convention)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


# --- CWE ---------------------------------------------------------------------------------------

_CWE = re.compile(r"\bcwe[-_/: ]*0*(\d{1,5})\b", re.IGNORECASE)


def cwe_ids(values: Iterable[object]) -> list[str]:
    """``CWE-79`` from "CWE-79: ...", "external/cwe/cwe-079", 79 or "79"; deduplicated."""
    out: list[str] = []
    for value in values:
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, int):
            found = [str(value)]
        else:
            text = str(value).strip()
            found = [text] if text.isdigit() else _CWE.findall(text)
        for number in found:
            cwe = f"CWE-{int(number)}"
            if cwe not in out:
                out.append(cwe)
    return out


# --- vulnerability ids -------------------------------------------------------------------------

_VULN_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*[-_][A-Za-z0-9][A-Za-z0-9._:-]*$")
_CVE = re.compile(r"^CVE-(\d{4})-(\d{4,})$")
_UPPER_CASE_SCHEMES = frozenset({"CVE", "PYSEC", "GO", "RUSTSEC", "OSV", "GSD"})


def normalize_vulnerability_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _VULN_ID.match(text) or len(text) > 100:
        return None
    scheme = text.split("-", 1)[0].upper()
    if scheme == "GHSA":
        return text.lower().replace("ghsa-", "GHSA-", 1)
    if scheme in _UPPER_CASE_SCHEMES:
        return text.upper()
    return text


def vulnerability_ids(values: Iterable[object]) -> list[str]:
    """Normalised, deduplicated ids, canonical first (see ``canonical_vulnerability_id``)."""
    ids: list[str] = []
    for value in values:
        normalized = normalize_vulnerability_id(value)
        if normalized and normalized not in ids:
            ids.append(normalized)
    if not ids:
        return ids
    canonical = canonical_vulnerability_id(ids)
    return [canonical, *sorted(i for i in ids if i != canonical)]


def canonical_vulnerability_id(ids: Iterable[str]) -> str:
    """One id for a group of aliases, the same whichever tool listed them: the oldest CVE,
    else the first GHSA, else the first id in sorted order."""
    return min(ids, key=_alias_rank)


def _alias_rank(vuln_id: str) -> tuple[int, int, int, str]:
    cve = _CVE.match(vuln_id)
    if cve:
        return (0, int(cve.group(1)), int(cve.group(2)), vuln_id)
    if vuln_id.startswith("GHSA-"):
        return (1, 0, 0, vuln_id)
    return (2, 0, 0, vuln_id)


# --- paths -------------------------------------------------------------------------------------


_PLAIN_PATH = re.compile(r"^(?!\.{1,2}/)(?:[\w@+=,~-][\w.@+=,~ -]*/)*[\w@+=,~-][\w.@+=,~ -]*$")
"""A relative path with no ``.``/``..`` segment, backslash, percent sign or empty segment."""


def normalize_path(value: object) -> str | None:
    """A repository-relative POSIX path from a tool's path or ``file://`` URI.

    Paths are data, never opened; ``..`` segments that would climb above the repository root
    are dropped so that a hostile report cannot make a later link or lookup escape it.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if _PLAIN_PATH.match(text):
        return text  # the common case, already normal
    if text.lower().startswith("file:"):
        parts = urlsplit(text)
        text = unquote(parts.path)
    elif "%" in text:
        text = unquote(text)
    text = text.replace("\\", "/")
    absolute = text.startswith("/")
    normalized = posixpath.normpath(text)
    parts_out = [p for p in normalized.split("/") if p not in ("", ".", "..")]
    if not parts_out:
        return None
    path = "/".join(parts_out)
    return f"/{path}" if absolute else path


# --- packages ----------------------------------------------------------------------------------

# purl type -> OSV ecosystem name (the names the advisory databases use)
PURL_ECOSYSTEMS = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "cargo": "crates.io",
    "maven": "Maven",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "composer": "Packagist",
    "pub": "Pub",
    "hex": "Hex",
    "swift": "SwiftURL",
    "cocoapods": "CocoaPods",
    "conan": "ConanCenter",
    "hackage": "Hackage",
    "cran": "CRAN",
    "github": "GitHub Actions",
    "githubactions": "GitHub Actions",
    "deb": "Debian",
    "rpm": "Red Hat",
    "apk": "Alpine",
    "bitnami": "Bitnami",
}
ECOSYSTEM_PURL_TYPES = {v.lower(): k for k, v in PURL_ECOSYSTEMS.items()} | {
    "pip": "pypi",
    "python": "pypi",
    "python-pkg": "pypi",
    "node": "npm",
    "node-pkg": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "go": "golang",
    "gomod": "golang",
    "go-module": "golang",
    "gobinary": "golang",
    "rust": "cargo",
    "rust-crate": "cargo",
    "cargo": "cargo",
    "jar": "maven",
    "java-archive": "maven",
    "pom": "maven",
    "gradle": "maven",
    "gemspec": "gem",
    "bundler": "gem",
    "ruby": "gem",
    "dotnet": "nuget",
    "php": "composer",
    "debian": "deb",
    "ubuntu": "deb",
    "dpkg": "deb",
    "redhat": "rpm",
    "centos": "rpm",
    "rocky": "rpm",
    "alma": "rpm",
    "amazon": "rpm",
    "oracle": "rpm",
    "suse": "rpm",
    "photon": "rpm",
    "fedora": "rpm",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
}
OS_PURL_TYPES = frozenset({"deb", "rpm", "apk", "alpm", "qpkg", "ebuild"})


def parse_purl(value: object) -> PackageURL | None:
    """The parsed purl, or None."""
    if not isinstance(value, str) or not value.startswith("pkg:"):
        return None
    return _parse_purl(value.strip())


@lru_cache(maxsize=65_536)
def _parse_purl(value: str) -> PackageURL | None:
    # Cached: a report names the same package many times (once per vulnerability), and
    # parsing costs tens of microseconds. PackageURL is an immutable named tuple.
    try:
        return PackageURL.from_string(value)
    except ValueError:
        return None


def purl_type_for(ecosystem: str | None) -> str | None:
    if not ecosystem:
        return None
    key = ecosystem.strip().lower()
    return ECOSYSTEM_PURL_TYPES.get(key.split(":")[0], key if key in PURL_ECOSYSTEMS else None)


def build_purl(
    ecosystem: str | None, name: str, version: str | None, *, distribution: str | None = None
) -> str | None:
    """A purl from an ecosystem word and a package name, when the type is known.

    Operating-system packages are namespaced by their distribution (``pkg:deb/debian/apt``)
    as Trivy and Grype write them, so that both tools' findings of one package meet.
    """
    purl_type = purl_type_for(ecosystem)
    if purl_type is None or not name:
        return None
    namespace = None
    package = name
    if purl_type in OS_PURL_TYPES and distribution:
        namespace = distribution.lower()
    elif purl_type == "maven" and ":" in name:
        namespace, package = name.split(":", 1)
    elif purl_type in ("npm", "composer", "golang") and "/" in name:
        namespace, package = name.rsplit("/", 1)
    try:
        return PackageURL(
            type=purl_type, namespace=namespace, name=package, version=version or None
        ).to_string()
    except ValueError:
        return None


def package_component(
    name: str,
    version: str | None,
    purl: str | None,
    ecosystem: str | None = None,
    licenses: Iterable[str] = (),
) -> RawComponent:
    """A component with its purl kept only when it parses and its ecosystem named as the
    advisory databases name it (from the purl, else from the tool's word)."""
    parsed = parse_purl(purl)
    return RawComponent(
        name=name,
        version=version,
        purl=purl if parsed else None,
        ecosystem=ecosystem_of(parsed, ecosystem),
        licenses=tuple(licenses),
    )


def component_from_purl(value: object) -> RawComponent | None:
    """The component a purl names, its name as the ecosystem writes it (Maven
    ``group:artifact``, npm ``@scope/name``, Go ``host/path/name``); None when it does not
    parse."""
    parsed = parse_purl(value)
    if parsed is None or not parsed.name:
        return None
    # A distribution is the namespace of an OS package, not part of its name.
    group = None if parsed.type in OS_PURL_TYPES else parsed.namespace
    name = parsed.name
    if group:
        name = f"{group}:{name}" if parsed.type == "maven" else f"{group}/{name}"
    return package_component(name, parsed.version, str(value).strip())


def ecosystem_of(purl: PackageURL | None, fallback: str | None = None) -> str | None:
    if purl is not None:
        return PURL_ECOSYSTEMS.get(purl.type, purl.type)
    purl_type = purl_type_for(fallback)
    return PURL_ECOSYSTEMS.get(purl_type, fallback) if purl_type else fallback


def package_key(purl: str | None, ecosystem: str | None, name: str) -> str:
    """The package's identity without its version: what a dependency finding is about.

    Upgrading to a version that is still vulnerable does not change the problem, so the
    version is left out; names are normalised as each ecosystem compares them.
    """
    parsed = parse_purl(purl)
    if parsed is not None:
        purl_type, namespace, package = parsed.type, parsed.namespace or "", parsed.name
    else:
        purl_type = purl_type_for(ecosystem) or (ecosystem or "").lower()
        namespace, package = "", name
    if purl_type == "pypi":
        package = re.sub(r"[-_.]+", "-", package).lower()
    elif purl_type in ("npm", "nuget", "composer", "gem", "cargo", "pub", "hex"):
        package, namespace = package.lower(), namespace.lower()
    return f"{purl_type}/{namespace}/{package}" if namespace else f"{purl_type}/{package}"


_OPERATOR = re.compile(r"^\s*(?:>=|==|=|>|~=|\^|~)?\s*v?")


def lowest_fix(candidates: Iterable[str], installed: str | None) -> str | None:
    """The version to upgrade to: the lowest fixed version above the installed one.

    Tools list one fix per release line (Django: "2.2.25, 3.1.14, 3.2.10"); the lowest of all
    would be a downgrade from 3.2.9. Versions compare as PEP 440 (which also orders plain
    semantic versions) when they all parse; otherwise the tool's first fix stands, its order
    being its preference.
    """
    versions = [
        version
        for candidate in candidates
        for part in candidate.split(",")
        if (version := _OPERATOR.sub("", part).strip())
    ]
    if not versions:
        return None
    try:
        ordered = sorted(dict.fromkeys(versions), key=Version)
        current = Version(_OPERATOR.sub("", installed)) if installed else None
    except InvalidVersion:
        return versions[0]
    above = [v for v in ordered if current is None or Version(v) > current]
    # Nothing above the installed version: the listed fixes are for other release lines.
    return above[0] if above else None


def kind_for_package(purl: str | None, ecosystem: str | None) -> Kind:
    """Operating-system packages are container findings; language packages dependency ones."""
    parsed = parse_purl(purl)
    purl_type = parsed.type if parsed else purl_type_for(ecosystem)
    return Kind.CONTAINER if purl_type in OS_PURL_TYPES else Kind.DEPENDENCY


# --- secrets -----------------------------------------------------------------------------------


def secret_sha1(secret: str) -> str:
    """SHA-1 of the secret as detect-secrets computes it, so findings of several tools meet."""
    return hashlib.sha1(secret.encode("utf-8"), usedforsecurity=False).hexdigest()


def secret_hash(sha1_hex: str) -> str:
    """What is stored: a SHA-256 over the SHA-1 (never the secret)."""
    return hashlib.sha256(f"shieldwall-secret:{sha1_hex.lower()}".encode()).hexdigest()


def redact_secret(secret: str) -> str:
    """A preview that names the kind of secret without giving it away: the first four
    characters (key prefixes such as ``AKIA`` or ``ghp_``) only for long secrets."""
    if len(secret) >= 16:
        return f"{secret[:4]}****"
    return "****"


def tool_name(value: object, default: str) -> str:
    """A tool's name as a stream key: lower case, words joined by ``-``."""
    if not isinstance(value, str) or not clean(value).strip():
        return default
    name = "-".join(clean(value).strip().lower().split())[:100]
    return _TOOL_ALIASES.get(name, name)


_TOOL_ALIASES = {
    "semgrep-oss": "semgrep",
    "semgrep-pro": "semgrep",
    "semgrep-cli": "semgrep",
}
