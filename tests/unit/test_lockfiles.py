"""Lockfile parsers: what `shieldwall scan` sees of each format, from fixtures in the real
tools' shapes, and how hostile or broken files are refused."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shieldwall.errors import EXIT_BAD_INPUT
from shieldwall.intel.matching import evaluate
from shieldwall.intel.osv import Affected, Range
from shieldwall.scan.lockfiles import (
    KINDS,
    LockedPackage,
    LockfileError,
    lockfile_kind,
    parse_lockfile,
)
from tests.conftest import fixture
from tests.mutate import paths, replace

LOCKFILES = fixture("lockfiles")
FIXTURES = sorted(str(p.relative_to(LOCKFILES)) for p in LOCKFILES.rglob("*") if p.is_file())


def parsed(relative: str, text: str | None = None) -> list[LockedPackage]:
    """The fixture's packages, parsed under its path relative to the fixtures folder."""
    return parse_lockfile(relative, text if text is not None else read(relative))


def outcome(path: str, text: str) -> list[LockedPackage] | str:
    """The packages, or the message of the LockfileError (any other exception escapes)."""
    try:
        return parse_lockfile(path, text)
    except LockfileError as exc:
        return str(exc)


def read(relative: str) -> str:
    return (LOCKFILES / relative).read_text(encoding="utf-8")


def by_name(relative: str) -> dict[str, LockedPackage]:
    return {f"{p.name}@{p.version}": p for p in parsed(relative)}


# --- file names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("requirements.txt", "requirements"),
        ("services/api/requirements-dev.txt", "requirements"),
        ("requirements/prod.txt", "requirements"),
        ("poetry.lock", "poetry"),
        ("backend/Pipfile.lock", "pipfile"),
        ("uv.lock", "uv"),
        ("web/package-lock.json", "npm"),
        ("npm-shrinkwrap.json", "npm"),
        ("yarn.lock", "yarn"),
        ("pnpm-lock.yaml", "pnpm"),
        ("cmd/tool/go.mod", "gomod"),
        ("go.sum", "gosum"),
        ("Cargo.lock", "cargo"),
        ("Gemfile.lock", "gemfile"),
        ("gems.locked", "gemfile"),
        ("composer.lock", "composer"),
        ("app/gradle.lockfile", "gradle"),
        ("buildscript-gradle.lockfile", "gradle"),
        ("pom.xml", "maven"),
    ],
)
def test_lockfile_kind_recognises_the_files_the_tools_write(path: str, kind: str) -> None:
    assert lockfile_kind(path) == kind


@pytest.mark.parametrize(
    "path",
    [
        "package.json",  # a manifest: ranges, not locked versions
        "pyproject.toml",
        "Pipfile",
        "Cargo.toml",
        "Gemfile",
        "composer.json",
        "build.gradle",
        "requirements.in",  # pip-compile's input: unpinned
        "go.work",  # lists the workspace's own modules, pins nothing
        "docs/requirements.md",
        "requirements/README.md",
        "yarn.lock.orig",
        "POETRY.LOCK",  # the tools write these names in this case only
        "node_modules/.package-lock.json",
    ],
)
def test_lockfile_kind_refuses_manifests_and_lookalikes(path: str) -> None:
    assert lockfile_kind(path) is None


def test_every_kind_is_registered_once_with_a_parser() -> None:
    names = [kind.name for kind in KINDS]
    assert len(names) == len(set(names)) == 14
    assert all(callable(kind.parse) for kind in KINDS)


def test_a_file_that_is_no_lockfile_is_refused_as_bad_input() -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile("web/package.json", "{}")
    assert caught.value.exit_code == EXIT_BAD_INPUT
    assert str(caught.value) == "web/package.json: not a lockfile this version knows"


# --- what each fixture locks -----------------------------------------------------------------

EXPECTED = {
    "requirements/requirements.txt": [
        "asgiref@3.7.2", "Django@3.2.0", "requests@2.25.1", "urllib3@1.26.4", "PyYAML@5.3.1",
        "sqlparse@0.4.1", "pytz@2021.1", "Jinja2@2.11.2", "six@1.15.0",
    ],
    "poetry/v1/poetry.lock": [
        "asgiref@3.3.4", "atomicwrites@1.4.0", "attrs@21.2.0", "django@3.2.0", "pytest@6.2.4",
        "pytz@2021.1", "sqlparse@0.4.1",
    ],
    "poetry/v2/poetry.lock": [
        "certifi@2024.12.14", "charset-normalizer@3.4.1", "colorama@0.4.6", "idna@3.10",
        "mkdocs@1.6.1", "pytest@8.3.4", "requests@2.25.1", "urllib3@1.26.4",
    ],
    "pipfile/Pipfile.lock": [
        "asgiref@3.3.4", "certifi@2020.12.5", "chardet@4.0.0", "django@3.2.0", "idna@2.10",
        "pytz@2021.1", "requests@2.25.1", "sqlparse@0.4.1", "urllib3@1.26.4", "attrs@21.2.0",
        "iniconfig@1.1.1", "pytest@6.2.4",
    ],
    "uv/uv.lock": [
        "anyio@4.7.0", "asgiref@3.3.4", "certifi@2024.12.14", "colorama@0.4.6", "django@3.2.0",
        "h11@0.14.0", "httpcore@1.0.7", "httpx@0.28.1", "idna@3.10", "iniconfig@2.0.0",
        "packaging@24.2", "pluggy@1.5.0", "pytest@8.3.4", "pytz@2021.1", "pyyaml@5.3.1",
        "respx@0.22.0", "sniffio@1.3.1", "sqlparse@0.4.1",
    ],
    "npm/v1/package-lock.json": [
        "@babel/code-frame@7.12.13", "@babel/highlight@7.13.10", "accepts@1.3.7",
        "debug@2.6.9", "express@4.17.1", "lodash@4.17.20", "mime-db@1.47.0",
        "mime-types@2.1.30", "minimist@1.2.5", "mkdirp@0.5.1", "ms@2.1.2", "negotiator@0.6.2",
        "string-width@4.2.3", "minimist@0.0.8", "ms@2.0.0",
    ],
    "npm/v2/package-lock.json": [
        "@types/node@14.14.41", "axios@0.21.0", "follow-redirects@1.13.0", "lodash@4.17.20",
    ],
    "npm/v3/package-lock.json": [
        "@babel/core@7.22.5", "semver@6.3.0", "fsevents@2.3.2", "jest-get-type@29.4.3",
        "js-tokens@4.0.0", "lodash@4.17.20", "loose-envify@1.4.0", "semver@7.5.4",
        "string-width@4.2.3", "react@18.2.0",
    ],
    "yarn/v1/yarn.lock": [
        "@babel/code-frame@7.22.5", "@babel/core@7.22.5", "@babel/highlight@7.22.5",
        "lodash@4.17.20", "minimist@1.2.5", "semver@6.3.0", "string-width@4.2.3",
    ],
    "yarn/berry/yarn.lock": [
        "@babel/code-frame@7.22.5", "@babel/core@7.22.5", "@babel/highlight@7.22.5",
        "lodash@4.17.20", "semver@6.3.0", "string-width@4.2.3", "typescript@5.1.6",
    ],
    "pnpm/v5/pnpm-lock.yaml": [
        "@babel/core@7.22.5", "js-tokens@4.0.0", "lodash@4.17.20", "loose-envify@1.4.0",
        "react-dom@18.2.0", "react@18.2.0", "scheduler@0.23.0", "semver@6.3.0",
    ],
    "pnpm/v6/pnpm-lock.yaml": [
        "@babel/core@7.22.5", "js-tokens@4.0.0", "lodash@4.17.20", "loose-envify@1.4.0",
        "react-dom@18.2.0", "react@18.2.0", "scheduler@0.23.0", "semver@6.3.0",
    ],
    "pnpm/v9/pnpm-lock.yaml": [
        "@babel/core@7.22.5", "ansi-regex@5.0.1", "emoji-regex@8.0.0",
        "is-fullwidth-code-point@3.0.0", "js-tokens@4.0.0", "lodash@4.17.21",
        "loose-envify@1.4.0", "react-dom@18.2.0", "react@18.2.0", "scheduler@0.23.0",
        "semver@6.3.1", "string-width@4.2.3", "strip-ansi@6.0.1",
    ],
    "gomod/go.mod": [
        "github.com/gin-gonic/gin@v1.6.3", "github.com/golang-jwt/jwt/v4@v4.4.2",
        "github.com/sirupsen/logrus@v1.9.3",
        "golang.org/x/crypto@v0.0.0-20200622213623-75b288015ac9", "gopkg.in/yaml.v2@v2.2.8",
        "github.com/gin-contrib/sse@v0.1.0", "github.com/go-playground/validator/v10@v10.2.0",
        "github.com/json-iterator/go@v1.1.9", "github.com/ugorji/go/codec@v1.1.7",
        "golang.org/x/net@v0.7.0", "golang.org/x/sys@v0.0.0-20200116001909-b77594299b42",
        "github.com/docker/docker@v20.10.7+incompatible",
    ],
    "gosum/go.sum": [
        "github.com/gin-contrib/sse@v0.1.0", "github.com/gin-gonic/gin@v1.6.3",
        "github.com/go-playground/validator/v10@v10.2.0", "github.com/golang/protobuf@v1.3.3",
        "golang.org/x/crypto@v0.0.0-20200622213623-75b288015ac9", "golang.org/x/net@v0.7.0",
        "gopkg.in/yaml.v2@v2.2.8",
    ],
    "cargo/Cargo.lock": [
        "autocfg@1.1.0", "bitflags@1.3.2", "cc@1.0.73", "cfg-if@1.0.0", "foreign-types@0.3.2",
        "foreign-types-shared@0.1.1", "libc@0.2.126", "once_cell@1.13.0", "openssl@0.10.38",
        "openssl-sys@0.9.72", "pkg-config@0.3.25", "smallvec@1.9.0", "vcpkg@0.2.15",
    ],
    "gemfile/Gemfile.lock": [
        "actionpack@7.0.4", "actionview@7.0.4", "activesupport@7.0.4", "bcrypt@3.1.18",
        "concurrent-ruby@1.1.10", "i18n@1.12.0", "mini_portile2@2.8.0", "nokogiri@1.13.0",
        "racc@1.6.0", "rack@2.2.4", "rails@7.0.4", "railties@7.0.4", "rspec-core@3.12.0",
        "rspec-support@3.12.0",
    ],
    "composer/composer.lock": [
        "guzzlehttp/guzzle@7.4.1", "guzzlehttp/promises@1.5.1", "guzzlehttp/psr7@2.1.0",
        "monolog/monolog@2.3.5", "psr/http-client@1.0.1", "psr/http-message@1.0.1",
        "symfony/console@v5.4.0", "symfony/polyfill-mbstring@v1.23.1",
        "doctrine/instantiator@1.4.0", "mockery/mockery@1.4.4", "phpunit/phpunit@9.5.10",
    ],
    "gradle/gradle.lockfile": [
        "com.fasterxml.jackson.core:jackson-annotations@2.12.1",
        "com.fasterxml.jackson.core:jackson-core@2.12.1",
        "com.fasterxml.jackson.core:jackson-databind@2.12.1",
        "com.google.guava:failureaccess@1.0.1", "com.google.guava:guava@30.1-jre",
        "junit:junit@4.13.1", "net.bytebuddy:byte-buddy@1.10.20",
        "org.apache.logging.log4j:log4j-api@2.14.1",
        "org.apache.logging.log4j:log4j-core@2.14.1", "org.hamcrest:hamcrest-core@1.3",
        "org.mockito:mockito-core@3.9.0", "org.projectlombok:lombok@1.18.20",
    ],
    "maven/pom.xml": [
        "org.apache.logging.log4j:log4j-core@2.14.1",
        "com.fasterxml.jackson.core:jackson-databind@2.12.1",
        "org.apache.commons:commons-text@1.9", "com.acme:billing-api@1.4.0",
        "junit:junit@4.13.1", "javax.servlet:javax.servlet-api@4.0.1",
    ],
}  # fmt: skip

ECOSYSTEMS = {
    "requirements": "PyPI", "poetry": "PyPI", "pipfile": "PyPI", "uv": "PyPI", "npm": "npm",
    "yarn": "npm", "pnpm": "npm", "gomod": "Go", "gosum": "Go", "cargo": "crates.io",
    "gemfile": "RubyGems", "composer": "Packagist", "gradle": "Maven", "maven": "Maven",
}  # fmt: skip


def test_every_fixture_has_its_expectation() -> None:
    assert sorted(EXPECTED) == FIXTURES


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_each_fixture_gives_exactly_its_locked_packages_in_file_order(relative: str) -> None:
    packages = parsed(relative)
    assert [f"{p.name}@{p.version}" for p in packages] == EXPECTED[relative]
    ecosystem = ECOSYSTEMS[lockfile_kind(relative) or ""]
    assert {p.ecosystem for p in packages} == {ecosystem}
    assert {p.lockfile for p in packages} == {relative}


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_windows_line_endings_and_a_byte_order_mark_change_nothing(relative: str) -> None:
    windows = "\ufeff" + read(relative).replace("\n", "\r\n")
    assert parsed(relative, windows) == parsed(relative)


@pytest.mark.parametrize(
    ("relative", "package", "purl"),
    [
        ("npm/v3/package-lock.json", "@babel/core@7.22.5", "pkg:npm/%40babel/core@7.22.5"),
        ("yarn/berry/yarn.lock", "@babel/core@7.22.5", "pkg:npm/%40babel/core@7.22.5"),
        ("gomod/go.mod", "github.com/gin-gonic/gin@v1.6.3",
         "pkg:golang/github.com/gin-gonic/gin@v1.6.3"),
        ("gomod/go.mod", "github.com/docker/docker@v20.10.7+incompatible",
         "pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible"),
        ("maven/pom.xml", "org.apache.logging.log4j:log4j-core@2.14.1",
         "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
        ("gradle/gradle.lockfile", "com.google.guava:guava@30.1-jre",
         "pkg:maven/com.google.guava/guava@30.1-jre"),
        ("requirements/requirements.txt", "Django@3.2.0", "pkg:pypi/django@3.2.0"),
        ("requirements/requirements.txt", "PyYAML@5.3.1", "pkg:pypi/pyyaml@5.3.1"),
        ("cargo/Cargo.lock", "openssl@0.10.38", "pkg:cargo/openssl@0.10.38"),
        ("gemfile/Gemfile.lock", "nokogiri@1.13.0", "pkg:gem/nokogiri@1.13.0"),
        ("composer/composer.lock", "guzzlehttp/guzzle@7.4.1",
         "pkg:composer/guzzlehttp/guzzle@7.4.1"),
        ("composer/composer.lock", "symfony/console@v5.4.0",
         "pkg:composer/symfony/console@v5.4.0"),
    ],
)  # fmt: skip
def test_purls_name_the_package_as_its_ecosystem_does(
    relative: str, package: str, purl: str
) -> None:
    assert by_name(relative)[package].purl == purl


# --- what each format says of a package ----------------------------------------------------


def _flagged(relative: str, flag: Callable[[LockedPackage], bool | None]) -> dict[str, set[str]]:
    """The fixture's packages grouped by the flag's value (True, False, None)."""
    groups: dict[str, set[str]] = {"yes": set(), "no": set(), "unknown": set()}
    for key, package in by_name(relative).items():
        value = flag(package)
        groups["unknown" if value is None else "yes" if value else "no"].add(key)
    return groups


@pytest.mark.parametrize(
    ("relative", "dev"),
    [
        ("poetry/v1/poetry.lock",  # category = "dev"
         {"atomicwrites@1.4.0", "attrs@21.2.0", "pytest@6.2.4"}),
        ("poetry/v2/poetry.lock",  # outside the main group; idna is in main and dev
         {"colorama@0.4.6", "mkdocs@1.6.1", "pytest@8.3.4"}),
        ("pipfile/Pipfile.lock",  # urllib3 is in default and develop: needed in production
         {"attrs@21.2.0", "iniconfig@1.1.1", "pytest@6.2.4"}),
        ("uv/uv.lock",  # from the dev group only; httpx is also reached through respx
         {"colorama@0.4.6", "iniconfig@2.0.0", "packaging@24.2", "pluggy@1.5.0",
          "pytest@8.3.4", "respx@0.22.0"}),
        ("npm/v1/package-lock.json",
         {"@babel/code-frame@7.12.13", "@babel/highlight@7.13.10", "minimist@1.2.5",
          "mkdirp@0.5.1", "minimist@0.0.8"}),
        ("npm/v2/package-lock.json", {"@types/node@14.14.41"}),
        ("npm/v3/package-lock.json",  # string-width: dev as itself, production as an alias
         {"jest-get-type@29.4.3", "semver@7.5.4"}),
        ("pnpm/v5/pnpm-lock.yaml", {"@babel/core@7.22.5", "semver@6.3.0"}),
        ("pnpm/v6/pnpm-lock.yaml", {"@babel/core@7.22.5", "semver@6.3.0"}),
        ("pnpm/v9/pnpm-lock.yaml", {"@babel/core@7.22.5", "semver@6.3.1"}),
        ("composer/composer.lock",
         {"doctrine/instantiator@1.4.0", "mockery/mockery@1.4.4", "phpunit/phpunit@9.5.10"}),
        ("gradle/gradle.lockfile",  # only test configurations use them
         {"junit:junit@4.13.1", "net.bytebuddy:byte-buddy@1.10.20",
          "org.hamcrest:hamcrest-core@1.3", "org.mockito:mockito-core@3.9.0"}),
        ("maven/pom.xml", {"junit:junit@4.13.1"}),  # scope test; provided is not dev
    ],
)  # fmt: skip
def test_development_dependencies_are_flagged_where_the_format_says(
    relative: str, dev: set[str]
) -> None:
    groups = _flagged(relative, lambda p: p.dev)
    assert groups["yes"] == dev
    assert groups["no"] == set(EXPECTED[relative]) - dev
    assert groups["unknown"] == set()


@pytest.mark.parametrize(
    "relative",
    ["requirements/requirements.txt", "yarn/v1/yarn.lock", "yarn/berry/yarn.lock",
     "gomod/go.mod", "gosum/go.sum", "cargo/Cargo.lock", "gemfile/Gemfile.lock"],
)  # fmt: skip
def test_formats_that_do_not_tell_development_dependencies_claim_nothing(relative: str) -> None:
    assert {p.dev for p in parsed(relative)} == {None}


@pytest.mark.parametrize(
    ("relative", "direct"),
    [
        ("uv/uv.lock",  # the project's dependencies, extras and dev group
         {"django@3.2.0", "httpx@0.28.1", "pyyaml@5.3.1", "pytest@8.3.4", "respx@0.22.0"}),
        ("npm/v2/package-lock.json",
         {"@types/node@14.14.41", "axios@0.21.0", "lodash@4.17.20"}),
        ("npm/v3/package-lock.json",  # a nested semver or a workspace's react is not direct
         {"@babel/core@7.22.5", "fsevents@2.3.2", "jest-get-type@29.4.3", "lodash@4.17.20",
          "string-width@4.2.3"}),
        ("yarn/berry/yarn.lock",  # the workspace's dependencies, an alias and a patch included
         {"@babel/core@7.22.5", "lodash@4.17.20", "string-width@4.2.3", "typescript@5.1.6"}),
        ("pnpm/v5/pnpm-lock.yaml",
         {"@babel/core@7.22.5", "lodash@4.17.20", "react@18.2.0", "react-dom@18.2.0"}),
        ("pnpm/v6/pnpm-lock.yaml",
         {"@babel/core@7.22.5", "lodash@4.17.20", "react@18.2.0", "react-dom@18.2.0"}),
        ("pnpm/v9/pnpm-lock.yaml",  # every importer's: react is packages/ui's
         {"@babel/core@7.22.5", "lodash@4.17.21", "react@18.2.0", "react-dom@18.2.0",
          "string-width@4.2.3"}),
        ("gomod/go.mod",  # not marked // indirect
         {"github.com/gin-gonic/gin@v1.6.3", "github.com/golang-jwt/jwt/v4@v4.4.2",
          "github.com/sirupsen/logrus@v1.9.3",
          "golang.org/x/crypto@v0.0.0-20200622213623-75b288015ac9", "gopkg.in/yaml.v2@v2.2.8",
          "github.com/docker/docker@v20.10.7+incompatible"}),
        ("gemfile/Gemfile.lock",  # DEPENDENCIES; devise (git) and billing (path) are not gems
         {"nokogiri@1.13.0", "rails@7.0.4", "rspec-core@3.12.0"}),
        ("maven/pom.xml", set(EXPECTED["maven/pom.xml"])),
    ],
)  # fmt: skip
def test_direct_dependencies_are_flagged_where_the_format_says(
    relative: str, direct: set[str]
) -> None:
    groups = _flagged(relative, lambda p: p.direct)
    assert groups["yes"] == direct
    assert groups["no"] == set(EXPECTED[relative]) - direct
    assert groups["unknown"] == set()


@pytest.mark.parametrize(
    ("relative", "lines"),
    [
        ("requirements/requirements.txt",  # a continued line is where it starts
         {"asgiref@3.7.2": 12, "Django@3.2.0": 16, "Jinja2@2.11.2": 33, "six@1.15.0": 36}),
        ("gomod/go.mod",  # a replaced module is where its replacement is written
         {"github.com/gin-gonic/gin@v1.6.3": 6, "github.com/sirupsen/logrus@v1.9.3": 25,
          "golang.org/x/net@v0.7.0": 28, "github.com/docker/docker@v20.10.7+incompatible": 23}),
        ("gosum/go.sum", {"github.com/gin-gonic/gin@v1.6.3": 4}),
        ("cargo/Cargo.lock", {"autocfg@1.1.0": 6, "openssl@0.10.38": 57, "vcpkg@0.2.15": 108}),
        ("poetry/v1/poetry.lock", {"asgiref@3.3.4": 2, "django@3.2.0": 33}),
        ("uv/uv.lock", {"anyio@4.7.0": 5, "sniffio@1.3.1": 166}),
        ("gemfile/Gemfile.lock",  # the first of nokogiri's platform entries
         {"actionpack@7.0.4": 19, "nokogiri@1.13.0": 33, "rspec-support@3.12.0": 50}),
        ("gradle/gradle.lockfile", {"com.fasterxml.jackson.core:jackson-annotations@2.12.1": 4}),
        ("yarn/v1/yarn.lock", {"@babel/code-frame@7.22.5": 5, "string-width@4.2.3": 47}),
        ("yarn/berry/yarn.lock", {"@babel/code-frame@7.22.5": 8, "typescript@5.1.6": 75}),
        ("pnpm/v5/pnpm-lock.yaml", {"@babel/core@7.22.5": 21, "react-dom@18.2.0": 43}),
        ("pnpm/v6/pnpm-lock.yaml", {"react-dom@18.2.0": 47}),
        ("pnpm/v9/pnpm-lock.yaml", {"@babel/core@7.22.5": 39, "strip-ansi@6.0.1": 88}),
    ],
)  # fmt: skip
def test_lines_point_at_the_declaration(relative: str, lines: dict[str, int]) -> None:
    packages = by_name(relative)
    assert {key: packages[key].line for key in lines} == lines
    declared = (LOCKFILES / relative).read_text().splitlines()
    for key, package in packages.items():
        assert package.line is not None, key
        assert package.name.rsplit(":", 1)[-1].rsplit("/", 1)[-1] in declared[package.line - 1]


@pytest.mark.parametrize(
    "relative",
    ["pipfile/Pipfile.lock", "npm/v3/package-lock.json", "composer/composer.lock",
     "maven/pom.xml"],
)  # fmt: skip
def test_formats_without_cheap_lines_give_none(relative: str) -> None:
    assert {p.line for p in parsed(relative)} == {None}


# --- format quirks ----------------------------------------------------------------------------


def test_requirements_skip_what_is_not_an_exact_pin() -> None:
    names = {p.name for p in parsed("requirements/requirements.txt")}
    # ranges, a prefix match, an editable VCS checkout, a VCS or URL or path requirement
    assert names.isdisjoint({"numpy", "celery", "flask", "pillow", "click", "black", "mylib"})


def test_requirements_read_markers_extras_and_hashes_as_pip_does() -> None:
    text = (
        'Django==3.2.0 ; python_version >= "3.6"\n'
        "requests[security,socks]==2.25.1 --hash=sha256:abc\n"
        "urllib3===1.26.4\n"
        "flask-login==0.5.0 \\\n"
        "    --hash=sha256:def \\\n"
        "    --hash=sha256:123\n"
        "tzdata==2021.1 # via pytz \\\n"
        "pytz==2021.1\n"  # swallowed: a comment's backslash continues the comment
    )
    assert [(p.name, p.version, p.line) for p in parse_lockfile("requirements.txt", text)] == [
        ("Django", "3.2.0", 1),
        ("requests", "2.25.1", 2),
        ("urllib3", "1.26.4", 3),
        ("flask-login", "0.5.0", 4),
        ("tzdata", "2021.1", 7),
    ]


def test_a_package_listed_several_times_is_one_record() -> None:
    (alias,) = [p for p in parsed("npm/v3/package-lock.json") if p.name == "string-width"]
    # node_modules/string-width (dev) and node_modules/string-width-cjs (an alias, direct)
    assert (alias.direct, alias.dev) == (True, False)
    nokogiri = [p for p in parsed("gemfile/Gemfile.lock") if p.name == "nokogiri"]
    assert [(p.version, p.line) for p in nokogiri] == [("1.13.0", 33)]


def test_go_mod_replacements_and_local_forks() -> None:
    packages = by_name("gomod/go.mod")
    assert "github.com/sirupsen/logrus@v1.8.1" not in packages
    assert packages["github.com/sirupsen/logrus@v1.9.3"].direct is True
    assert packages["golang.org/x/net@v0.7.0"].direct is False
    # replaced by ../protobuf-fork: the project's own code now, not the published module
    assert not any(p.name == "github.com/golang/protobuf" for p in packages.values())


def test_go_mod_reads_quoted_paths_and_blocks_opened_without_a_space() -> None:
    text = (
        "module example.com/app\n"
        "require(\n"
        '\t"github.com/gin-gonic/gin" v1.6.3\n'
        "\tgolang.org/x/text v0.3.2 // indirect; needed by x/net\n"
        ")\n"
        "replace golang.org/x/text v0.3.2 => golang.org/x/text v0.3.8\n"
    )
    assert [(p.name, p.version, p.direct, p.line) for p in parse_lockfile("go.mod", text)] == [
        ("github.com/gin-gonic/gin", "v1.6.3", True, 3),
        ("golang.org/x/text", "v0.3.8", False, 6),
    ]


def test_yaml_lockfiles_read_yes_and_on_as_package_names() -> None:
    """pnpm writes YAML 1.2, where ``yes`` is text; YAML 1.1 would make it a boolean."""
    text = (
        "lockfileVersion: '6.0'\n"
        "dependencies:\n"
        "  yes:\n"
        "    specifier: ^1.1.0\n"
        "    version: 1.1.0\n"
        "packages:\n"
        "  /yes@1.1.0:\n"
        "    resolution: {integrity: sha512-abc}\n"
        "    dev: false\n"
    )
    (package,) = parse_lockfile("pnpm-lock.yaml", text)
    assert (package.name, package.version, package.direct, package.line) == (
        "yes",
        "1.1.0",
        True,
        7,
    )


def test_pom_without_namespace_and_with_a_property_loop() -> None:
    text = (
        "<project><groupId>com.acme</groupId><version>2.0.0</version>"
        "<properties><a>${b}</a><b>${a}</b></properties><dependencies>"
        "<dependency><groupId>com.acme</groupId><artifactId>looped</artifactId>"
        "<version>${a}</version></dependency>"
        "<dependency><groupId>${project.groupId}</groupId><artifactId>core</artifactId>"
        "<version>${project.version}</version></dependency>"
        "</dependencies></project>"
    )
    assert [(p.name, p.version) for p in parse_lockfile("pom.xml", text)] == [
        ("com.acme:core", "2.0.0")
    ]


@pytest.mark.parametrize(
    ("ecosystem", "name", "version", "fixed"),
    [
        ("Packagist", "symfony/console", "v5.4.0", "5.4.1"),
        ("Go", "github.com/gin-gonic/gin", "v1.6.3", "1.7.0"),
    ],
)
def test_versions_kept_with_their_v_prefix_still_match_advisories(
    ecosystem: str, name: str, version: str, fixed: str
) -> None:
    """Composer and Go write "v5.4.0", OSV records "5.4.0": the matcher compares them as
    versions, so the lockfile's spelling is kept (and SBOM tools' purls meet ours)."""
    affected = Affected(
        ecosystem, name, None, (Range("ECOSYSTEM", (("introduced", "0"), ("fixed", fixed))),), ()
    )
    verdict = evaluate(affected, version)
    assert verdict is not None
    assert (verdict.affected, verdict.fixed) == (True, fixed)


# --- hostile and broken input -------------------------------------------------------------

DEEP = 100_000


@pytest.mark.parametrize(
    ("path", "text", "problem"),
    [
        ("package-lock.json", "{", "package-lock.json:1: not valid JSON"),
        ("package-lock.json", "[]", "the document must be a mapping, not a list"),
        ("package-lock.json", '{"packages": []}', "packages must be a mapping, not a list"),
        ("package-lock.json", '{"packages": {"node_modules/a": {"version": 1}}}',
         "packages['node_modules/a'].version must be text, not a number"),
        ("package-lock.json", '{"dependencies": {"a": {"version": "1.0.0", "dependencies": 3}}}',
         "dependencies.a.dependencies must be a mapping, not a number"),
        ("package-lock.json", "[" * DEEP + "]" * DEEP, "nested too deeply"),
        ("package-lock.json", '{"v": ' + "9" * 5000 + "}", "not valid JSON"),
        ("Pipfile.lock", '{"default": {"django": "==3.2.0"}}',
         "default.django must be a mapping, not text"),
        ("composer.lock", '{"packages": {"name": "a/b"}}', "packages must be a list, not a mapping"),
        ("composer.lock", '{"packages": [{"name": "a/b"}]}', "packages[0].version is missing"),
        ("composer.lock", '{"packages": [{"name": "a/", "version": "1.0"}]}',
         "'a/' is not a Packagist package name"),
        ("poetry.lock", "[[package]\nname = 'x'", "poetry.lock: not valid TOML"),
        ("poetry.lock", "package = 'django'", "package must be a list, not text"),
        ("poetry.lock", "[[package]]\nname = 'x'\nversion = 1.0",
         "package[0].version must be text, not a number"),
        ("uv.lock", "[[package]]\nname = 'x'\nsource = { registry = 'https://pypi.org/simple' }",
         "uv.lock:2: package[0].version is missing"),
        ("uv.lock", "[[package]]\nname = 'x'\nversion = '1'\ndependencies = [ 'y' ]",
         "package[0].dependencies[0] must be a mapping, not text"),
        ("Cargo.lock", "x = " + "[" * DEEP + "]" * DEEP, "Cargo.lock: "),
        ("Cargo.lock", "[[package]]\nname = 'x'\nversion = ''\nsource = 'registry+x'",
         "Cargo.lock:2: 'x' has an empty version"),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages: [unclosed", "not valid YAML"),
        ("pnpm-lock.yaml", "- a\n- b\n", "the document must be a mapping, not a list"),
        ("pnpm-lock.yaml", "packages: {}", "lockfileVersion None is not a version"),
        ("pnpm-lock.yaml", "lockfileVersion: 4.0\n", "lockfileVersion 4.0 is not supported"),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages: []",
         "packages must be a mapping, not a list"),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  1.0: {}",
         "packages has a key that is not text: 1.0"),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\nx: !!python/object/apply:os.system [ls]",
         "not valid YAML"),
        ("pnpm-lock.yaml", "[" * DEEP + "]" * DEEP, "nested too deeply"),
        ("pnpm-lock.yaml", "lockfileVersion: 5.4\ndependencies:\n  a: [1]",
         "dependencies.a must be text, not a list"),
        ("yarn.lock", "__metadata:\n  version: 6\n\"a@npm:^1\": 3\n", "a@npm:^1 must be a mapping"),
        ("yarn.lock", "__metadata:\n  version: 6\n\"a@npm:^1\":\n  version: 1.0.0\n",
         "a@npm:^1.resolution is missing"),
        ("yarn.lock", 'lodash@^4.17.20\n  version "4.17.20"\n',
         "yarn.lock:1: expected an entry header"),
        ("yarn.lock", '  version "4.17.20"\n', "yarn.lock:1: indented line before the first"),
        ("yarn.lock", "lodash@^4.17.20:\n  resolved \"x\"\n", "yarn.lock:1: entry without a version"),
        ("go.mod", "require (\n\tgithub.com/a/b v1.0.0\n", "go.mod:1: the require block is not closed"),
        ("go.mod", "require github.com/a/b\n", "go.mod:1: expected `require module/path v1.2.3`"),
        ("go.mod", "replace a b c\n", "go.mod:1: expected `replace old [version] => new"),
        ("go.mod", "{\x00garbage}\n", "go.mod:1: not a go.mod directive"),
        ("go.sum", "github.com/a/b v1.0.0\n", "go.sum:1: expected `module/path v1.2.3 h1:"),
        ("Gemfile.lock", "GEM\n  specs:\n    nokogiri 1.13.0\n",
         "Gemfile.lock:3: not a gem spec: 'nokogiri 1.13.0'"),
        ("gradle.lockfile", "junit:junit=testRuntimeClasspath\n",
         "gradle.lockfile:1: expected `group:artifact:version=...`"),
        ("requirements.txt", "this is no requirement!\n", "requirements.txt:1: not a requirement"),
        ("pom.xml", "<project><dependencies>", "pom.xml:1: not valid XML"),
        ("pom.xml", "<dependencies/>", "the root element is <dependencies>, not <project>"),
        ("pom.xml",
         '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
         "<project><name>&lol2;</name></project>",
         "pom.xml: refused XML"),
        ("pom.xml",
         '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
         "<project><version>&xxe;</version></project>",
         "pom.xml: refused XML"),
    ],
)  # fmt: skip
def test_broken_and_hostile_files_are_one_line_errors_naming_the_file(
    path: str, text: str, problem: str
) -> None:
    with pytest.raises(LockfileError) as caught:
        parse_lockfile(path, text)
    message = str(caught.value)
    assert problem in message
    assert message.startswith(path)
    assert "\n" not in message
    assert len(message) < 300


# Mutations: every value of a structured fixture, replaced by values of the wrong type,
# must give packages or a LockfileError, never another exception.

WRONG: tuple[object, ...] = ([], {}, 7, "x", None, True, [{}], {"k": []})
SYNTAXES = {
    "npm/v1/package-lock.json": "json", "npm/v2/package-lock.json": "json",
    "npm/v3/package-lock.json": "json", "pipfile/Pipfile.lock": "json",
    "composer/composer.lock": "json", "poetry/v1/poetry.lock": "toml",
    "poetry/v2/poetry.lock": "toml", "uv/uv.lock": "toml", "cargo/Cargo.lock": "toml",
    "pnpm/v5/pnpm-lock.yaml": "yaml", "pnpm/v6/pnpm-lock.yaml": "yaml",
    "pnpm/v9/pnpm-lock.yaml": "yaml", "yarn/berry/yarn.lock": "yaml",
}  # fmt: skip


def _toml(document: dict[str, Any]) -> str:
    """TOML with every table inline (TOML has no null: None values are left out)."""

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float | str):
            return json.dumps(item)
        if isinstance(item, list):
            return "[" + ", ".join(value(i) for i in item if i is not None) + "]"
        pairs = (f"{json.dumps(k)} = {value(v)}" for k, v in item.items() if v is not None)
        return "{" + ", ".join(pairs) + "}"

    return "".join(f"{json.dumps(k)} = {value(v)}\n" for k, v in document.items() if v is not None)


_SYNTAX: dict[str, tuple[Callable[[str], Any], Callable[[Any], str]]] = {
    "json": (json.loads, json.dumps),
    "toml": (tomllib.loads, _toml),
    "yaml": (yaml.safe_load, yaml.safe_dump),
}


@pytest.mark.parametrize("relative", sorted(SYNTAXES))
def test_wrong_types_anywhere_give_packages_or_a_lockfile_error(relative: str) -> None:
    load, dump = _SYNTAX[SYNTAXES[relative]]
    document = load(read(relative))
    places = paths(document, width=3)
    refused = 0
    for path in places[:: max(1, len(places) // 40)]:  # about 40 places, spread over the file
        for wrong in WRONG:
            mutated = replace(document, path, wrong)
            if dump is _toml and not isinstance(mutated, dict):
                continue  # a TOML document is a table
            result = outcome(relative, dump(mutated))
            if isinstance(result, str):
                refused += 1
                assert result.startswith(relative)
                assert "\n" not in result
            else:
                assert all(isinstance(p, LockedPackage) and p.version for p in result)
    assert refused > 0  # the mutations reached what the parser checks


@pytest.mark.parametrize("kind", sorted(ECOSYSTEMS))
@pytest.mark.parametrize(
    "garbage",
    ["", "\x00\x01\x02\xff", "}{][<>", "\ufeff", "a" * 10_000, "\n\n\n", "null", "true", "0"],
)
def test_garbage_never_escapes_as_another_exception(kind: str, garbage: str) -> None:
    path = next(f for f in FIXTURES if lockfile_kind(f) == kind)
    result = outcome(path, garbage)
    assert result == [] or (isinstance(result, str) and "\n" not in result)


def test_parsing_reads_nothing_but_the_text_given(tmp_path: Path) -> None:
    """``-r`` includes and parent POMs are not followed: the scan finds those files itself."""
    (tmp_path / "base.txt").write_text("django==3.2.0\n")
    text = f"-r {tmp_path / 'base.txt'}\nflask==2.0.1\n"
    assert [p.name for p in parse_lockfile("requirements.txt", text)] == ["flask"]
