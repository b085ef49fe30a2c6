"""Repository hygiene: a way to report vulnerabilities, owners, a licence, no binaries."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pathspec import GitIgnoreSpec

from shieldwall.errors import InputError
from shieldwall.scan.posture.model import Finding, Result, Verdict, check, counted, summarise
from shieldwall.scan.posture.repository import Repository
from shieldwall.scan.posture.workflows import workflows

_POLICY_NAMES = (
    "SECURITY.md",
    "SECURITY.markdown",
    "SECURITY.rst",
    "SECURITY.adoc",
    "SECURITY.txt",
)
# GitHub's own order of preference for SECURITY.md and CODEOWNERS.
SECURITY_POLICIES = (
    *(f"/{folder}{name}" for folder in (".github/", "", "docs/") for name in _POLICY_NAMES),
    "/.well-known/security.txt",
)
CODEOWNERS = ("/.github/CODEOWNERS", "/CODEOWNERS", "/docs/CODEOWNERS", "/.gitlab/CODEOWNERS")
LICENSES = ("/LICENSE*", "/LICENCE*", "/COPYING*", "/UNLICENSE*", "/LICENSES/*")

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s)>\]\"']+")
MIN_POLICY_WORDS = 10

# Scorecard's list of binary file extensions, plus the Java archives .war and .ear.
BINARY_EXTENSIONS = frozenset(
    [
        ".a",
        ".bundle",
        ".class",
        ".crx",
        ".deb",
        ".dex",
        ".dll",
        ".drv",
        ".dylib",
        ".ear",
        ".efi",
        ".elf",
        ".exe",
        ".iso",
        ".jar",
        ".lib",
        ".macho",
        ".msi",
        ".o",
        ".ocx",
        ".par",
        ".pyc",
        ".pyo",
        ".rpm",
        ".so",
        ".war",
        ".wasm",
        ".whl",
    ]
)
# Executable formats found by content, whatever the file is named.
_MAGIC = (
    (b"\x7fELF", "ELF executable"),
    (b"\xfe\xed\xfa\xce", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O universal binary"),
    (b"\x00asm", "WebAssembly module"),
    (b"dex\n", "Android DEX"),
)
_GRADLE_WRAPPER = "gradle-wrapper.jar"


@check("security-policy", "A security policy says how to report a vulnerability privately")
def security_policy(repo: Repository) -> Verdict:
    path = repo.first(*SECURITY_POLICIES)
    if path is None:
        return Verdict(
            Result.FAIL,
            "no security policy (SECURITY.md, .github/SECURITY.md or docs/SECURITY.md): a "
            "reporter has no private way to tell you about a vulnerability; add one with a "
            "contact (an organisation-wide policy in its .github repository is not visible "
            "offline)",
        )
    try:
        text = repo.read(path)
    except InputError as exc:
        return Verdict(Result.WARN, f"{exc.message}; it cannot be checked")
    contact = _EMAIL.search(text) or _URL.search(text)
    if contact is None:
        return Verdict(
            Result.WARN,
            f"{path} gives no contact for reports; add a security email address or a private "
            "advisory link (https://github.com/OWNER/REPO/security/advisories/new)",
        )
    words = len(text.split())
    if words < MIN_POLICY_WORDS:
        return Verdict(
            Result.WARN,
            f"{path} is too short to be a policy ({words} words); say how to report, what to "
            "include and when to expect an answer",
        )
    return Verdict(Result.PASS, f"{path} says where to report a vulnerability ({contact.group()})")


@check("codeowners", "CODEOWNERS routes every change, CI workflows included, to its owners")
def codeowners(repo: Repository) -> Verdict:
    path = repo.first(*CODEOWNERS)
    if path is None:
        return Verdict(
            Result.WARN,
            "no CODEOWNERS: changes are not routed to the people who own the code; add "
            ".github/CODEOWNERS and require code owner review in branch protection",
        )
    try:
        rules = _ownership_rules(repo.read(path))
    except InputError as exc:
        return Verdict(Result.WARN, f"{exc.message}; it cannot be checked")
    if not any(owners for _, owners in rules):
        return Verdict(Result.WARN, f"{path} names no owners; add `* @your-org/your-team`")
    findings = [
        Finding(Result.WARN, f"{workflow} has no owner in {path}")
        for workflow in workflows(repo).parsed
        if not _owned(rules, workflow)
    ]
    return summarise(
        findings,
        advice="workflows hold the secrets and decide what ships: give .github/workflows/ "
        "owners who review every change to it",
        passed=f"{path} assigns owners ({counted(len(rules), 'rule')})",
    )


@check("license", "A licence file says how the code may be used")
def license_file(repo: Repository) -> Verdict:
    path = repo.first(*LICENSES)
    if path is None:
        return Verdict(
            Result.WARN,
            "no LICENSE file: nobody may legally use, change or share the code; add one "
            "(https://choosealicense.com)",
        )
    if not repo.head(path, 1):
        return Verdict(Result.WARN, f"{path} is empty; put the licence text in it")
    return Verdict(Result.PASS, f"licence: {path}")


@check(
    "binary-artifacts", "No executables or compiled code are committed (they cannot be reviewed)"
)
def binary_artifacts(repo: Repository) -> Verdict:
    findings: list[Finding] = []
    for path in repo.files:
        kind = _binary_kind(repo, path)
        if kind is None:
            continue
        if PurePosixPath(path).name == _GRADLE_WRAPPER:
            findings.append(
                Finding(
                    Result.WARN,
                    f"{path} ({kind})",
                    "Gradle needs it, but check it is the real one: run "
                    "gradle/actions/wrapper-validation in CI",
                )
            )
        else:
            findings.append(Finding(Result.FAIL, f"{path} ({kind})"))
    return summarise(
        findings,
        advice="nobody can review what a binary does (the xz backdoor hid in test files); "
        "build it in CI from source, or fetch it with a pinned checksum",
        passed=f"no binary artifacts among {counted(len(repo.files), 'file')}",
    )


def _binary_kind(repo: Repository, path: str) -> str | None:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in BINARY_EXTENSIONS:
        return f"{suffix} file"
    start = repo.head(path, 64)
    kind = next((kind for magic, kind in _MAGIC if start.startswith(magic)), None)
    # "MZ" alone starts ordinary text too; a Windows executable's header also holds NULs.
    if kind is None and start.startswith(b"MZ") and b"\x00" in start:
        kind = "Windows executable"
    return kind


def _ownership_rules(text: str) -> list[tuple[GitIgnoreSpec, list[str]]]:
    """CODEOWNERS lines as (pattern, owners); a pattern without owners removes ownership."""
    rules = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            rules.append((GitIgnoreSpec.from_lines([words[0]]), words[1:]))
    return rules


def _owned(rules: list[tuple[GitIgnoreSpec, list[str]]], path: str) -> bool:
    """Whether ``path`` has owners: as in GitHub, the last matching rule decides."""
    owners: list[str] = []
    for pattern, rule_owners in rules:
        if pattern.match_file(path):
            owners = rule_owners
    return bool(owners)
