"""What every importer shares: the result, reading hostile files, and a draft model that
turns into a checked ``ThreatModelSpec``.

An importer reads another tool's file into a ``Draft`` (plain dictionaries, in the shape of
the Shieldwall model file) and says in ``notes`` what it could not carry over and how it
approximated it. ``Draft.finish`` validates the draft exactly as a model file is validated,
so an import either yields a model that ``parse_model`` accepts or fails with one line that
names the file and the problem.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from shieldwall.errors import InputError
from shieldwall.structured import MAX_DEPTH, format_loc, read_text, validation_problems
from shieldwall.text import clean, one_line
from shieldwall.threatmodel.controls import catalogue
from shieldwall.threatmodel.model import MAX_MODEL_BYTES, reference_problems
from shieldwall.threatmodel.schemas import ThreatModelSpec
from shieldwall.threatmodel.vocabulary import ENCRYPTED_PROTOCOLS, Protocol

MAX_NAME = 200
MAX_TEXT = 10_000
MAX_ID = 100
MAX_ASSUMPTION = 2_000


@dataclass
class ImportResult:
    spec: ThreatModelSpec
    notes: list[str]
    """What could not be mapped and how it was approximated, for the user to review."""
    origin: str = ""
    """Where the model came from, in words ("Threagile file threagile.yaml")."""


@dataclass(frozen=True)
class Importer:
    name: str
    """Used with ``--from``: lower case, dashes."""
    title: str
    """What a person calls the tool or format."""
    read: Callable[[Path], ImportResult]


# -- reading hostile files -------------------------------------------------------------


def load_json(path: Path) -> Any:
    """A JSON document within the size and nesting limits of a model file; duplicate keys
    and the non-standard constants (NaN, Infinity) are refused rather than guessed at."""
    text = read_text(path, MAX_MODEL_BYTES)
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError.in_file(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise InputError.in_file(path, f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise InputError.in_file(path, f"not valid JSON: {exc}") from None
    if _depth(data) > MAX_DEPTH:
        raise InputError.in_file(path, f"nested deeper than {MAX_DEPTH} levels")
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return deepest


class Reader:
    """Typed access to a parsed document whose shape nobody promised: a value of the wrong
    type is an ``InputError`` that names the file and where the value sits."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, problem: str) -> InputError:
        return InputError.in_file(self.path, problem)

    def mapping(self, value: Any, where: str, *, optional: bool = True) -> dict[str, Any]:
        if value is None and optional:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{where}: expected a mapping, found {_kind(value)}")
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{where}: expected a list, found {_kind(value)}")
        return value

    def records(self, value: Any, where: str) -> list[dict[str, Any]]:
        """A list of mappings."""
        return [
            self.mapping(v, f"{where}[{i}]", optional=False)
            for i, v in enumerate(self.items(value, where))
        ]

    def words(self, value: Any, where: str) -> list[str]:
        """A list of scalars, as text (YAML reads ``- 123`` as a number)."""
        out: list[str] = []
        for i, item in enumerate(self.items(value, where)):
            if isinstance(item, dict | list):
                raise self.fail(f"{where}[{i}]: expected a word, found {_kind(item)}")
            if item is not None:
                out.append(str(item))
        return out

    def flag(self, value: Any, where: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(f"{where}: expected true or false, found {_kind(value)}")
        return value

    def ref(self, value: Any, where: str) -> str | None:
        """A reference to another element by its name or id, ``None`` when absent."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}: expected a name, found {_kind(value)}")
        return value

    def word(self, value: Any, where: str) -> str:
        """A scalar as lower-case text, "" when absent."""
        if value is None:
            return ""
        if isinstance(value, dict | list):
            raise self.fail(f"{where}: expected a word, found {_kind(value)}")
        return str(value).strip().lower()


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return "text"


# -- values --------------------------------------------------------------------------------


def name(value: Any) -> str | None:
    """A display name: one line, no control characters, within the model's limit."""
    if value is None or isinstance(value, dict | list):
        return None
    text = one_line(str(value), MAX_NAME)
    return text or None


def text(*values: Any) -> str | None:
    """Free text (several pieces are joined by blank lines), within the model's limit."""
    parts = [
        clean(str(v)).strip() for v in values if v is not None and not isinstance(v, dict | list)
    ]
    joined = "\n\n".join(unique(p for p in parts if p))
    return clean(joined, MAX_TEXT) or None


def slug(value: str) -> str:
    """Lower-case words joined by hyphens, as element ids are written."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(words)[:MAX_ID].strip("-")


ELEMENT_ID = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")


def as_element_id(value: str) -> str:
    """``value`` when it already is a valid element id (Threagile's and TM-BOM's mostly
    are), else its slug."""
    if len(value) <= MAX_ID and ELEMENT_ID.match(value):
        return value
    return slug(value)


# Words that name a protocol in the free text of pytm, Threat Dragon and TM-BOM flows, most
# specific first: "HTTP/S" is HTTPS, "WebSocket Secure" is WSS, "MySQL" is SQL.
_PROTOCOL_WORDS: tuple[tuple[str, Protocol], ...] = (
    (r"https|http/s|http\(s\)|tls.*http|http.*tls", Protocol.HTTPS),
    (r"wss|websocket\s*secure|secure\s*websocket", Protocol.WSS),
    (r"websocket|\bws\b", Protocol.WS),
    (r"grpcs", Protocol.GRPCS),
    (r"grpc", Protocol.GRPC),
    (r"graphql", Protocol.GRAPHQL),
    (r"http|\brest\b|json-rpc|soap", Protocol.HTTP),
    (r"mongo|nosql|redis|cassandra|dynamo|couch|elasticsearch", Protocol.NOSQL),
    (r"sql|jdbc|odbc|postgres|mariadb|oracle|tds\b", Protocol.SQL),
    (r"amqps", Protocol.AMQPS),
    (r"amqp|rabbitmq|jms", Protocol.AMQP),
    (r"kafka", Protocol.KAFKA),
    (r"mqtts", Protocol.MQTTS),
    (r"mqtt", Protocol.MQTT),
    (r"sftp", Protocol.SFTP),
    (r"ftps", Protocol.FTPS),
    (r"ftp", Protocol.FTP),
    (r"\bssh|\bscp\b", Protocol.SSH),
    (r"smtps", Protocol.SMTPS),
    (r"smtp|e-?mail", Protocol.SMTP),
    (r"ldaps", Protocol.LDAPS),
    (r"ldap", Protocol.LDAP),
    (r"\bsmb|cifs", Protocol.SMB),
    (r"\bnfs\b", Protocol.NFS),
    (r"\brdp\b", Protocol.RDP),
    (r"\bdns\b", Protocol.DNS),
    (r"syslog", Protocol.SYSLOG),
    (r"in-?process|library call", Protocol.IN_PROCESS),
    (r"local|file system|filesystem|\bipc\b", Protocol.LOCAL),
)
_TLS_VARIANT = {
    Protocol.HTTP: Protocol.HTTPS,
    Protocol.WS: Protocol.WSS,
    Protocol.GRPC: Protocol.GRPCS,
    Protocol.SQL: Protocol.SQL_TLS,
    Protocol.NOSQL: Protocol.NOSQL_TLS,
    Protocol.AMQP: Protocol.AMQPS,
    Protocol.KAFKA: Protocol.KAFKA_TLS,
    Protocol.MQTT: Protocol.MQTTS,
    Protocol.FTP: Protocol.FTPS,
    Protocol.SMTP: Protocol.SMTPS,
    Protocol.LDAP: Protocol.LDAPS,
    Protocol.SYSLOG: Protocol.SYSLOG_TLS,
}
_PLAIN_TEXT_PROTOCOLS = frozenset({Protocol.LOCAL, Protocol.IN_PROCESS})


def protocol_from_text(value: str, encrypted: bool | None) -> tuple[Protocol, bool | None]:
    """The protocol a free-text label names and the flow's ``encrypted`` value: ``None``
    when the protocol says it already (HTTPS is encrypted), else what the source said.
    A plain protocol said to be encrypted becomes its TLS variant where there is one."""
    label = value.strip().lower()
    protocol = next(
        (p for pattern, p in _PROTOCOL_WORDS if label and re.search(pattern, label)),
        Protocol.OTHER,
    )
    if encrypted and protocol in _TLS_VARIANT:
        protocol = _TLS_VARIANT[protocol]
    return protocol, encrypted_override(protocol, encrypted)


def protocol_encrypts(protocol: Protocol) -> bool:
    """What a flow's ``encrypted`` defaults to (``facts.ModelIndex.encrypted``): encrypted
    protocols, and local ones that never cross a network."""
    return protocol in ENCRYPTED_PROTOCOLS or protocol in _PLAIN_TEXT_PROTOCOLS


def encrypted_override(protocol: Protocol, encrypted: bool | None) -> bool | None:
    """``encrypted`` as a flow should say it: only where it differs from the protocol's."""
    if encrypted is None:
        return None
    return None if encrypted == protocol_encrypts(protocol) else encrypted


def unique(values: Iterable[str]) -> list[str]:
    """In first-seen order, without repeats."""
    return list(dict.fromkeys(values))


# -- the draft model ------------------------------------------------------------------------

SECTIONS = ("assets", "actors", "boundaries", "components", "flows", "entry_points", "assumptions")


@dataclass
class Draft:
    """A model being assembled: sections of plain dictionaries in the model file's shape,
    the ids already given out, and the notes for the user."""

    path: Path
    source: str
    """The tool or format, as a person calls it ("Threagile")."""
    model: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {section: [] for section in SECTIONS}
    )
    notes: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    _taken: set[str] = field(default_factory=set)

    def new_id(self, wanted: str, fallback: str, *, keep: bool = False) -> str:
        """A unique element id from ``wanted`` (an id or a name); a clash gets a number.
        With ``keep`` the source's id was meant to carry over, and a change is recorded in
        ``renamed`` for a note."""
        base = as_element_id(wanted) or fallback
        candidate, number = base, 1
        while candidate in self._taken:
            number += 1
            suffix = f"-{number}"
            candidate = base[: MAX_ID - len(suffix)] + suffix
        self._taken.add(candidate)
        if keep and candidate != wanted:
            self.renamed.append(f"{wanted!r} → {candidate}")
        return candidate

    def add(self, section: str, element: dict[str, Any]) -> dict[str, Any]:
        """Add ``element``; a ``None`` value leaves the model's default in place."""
        kept = {k: v for k, v in element.items() if v is not None}
        self.sections[section].append(kept)
        return kept

    def assume(
        self, statement: Any, validated: bool = False, extra: dict[str, Any] | None = None
    ) -> None:
        """An assumption, when there is one worth the name (the model asks for 3 to 2,000
        characters; a longer one is cut, and says so with its ellipsis)."""
        said = text(statement)
        if said and len(said) >= 3:
            entry = {**(extra or {}), "text": clean(said, MAX_ASSUMPTION), "validated": validated}
            self.add("assumptions", entry)

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def note_list(self, lead: str, items: Iterable[str], limit: int = 12) -> None:
        """One note naming what it is about: ``lead: a, b, c and 4 more``."""
        shown = list(items)
        if not shown:
            return
        more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
        self.note(f"{lead}: {', '.join(shown[:limit])}{more}")

    def fail(self, problem: str) -> InputError:
        return InputError.in_file(self.path, problem)

    def finish(self) -> ImportResult:
        """The checked model; a problem here is a bug in the importer or input that none
        of its checks foresaw, and is reported like any bad input."""
        self._settle_flow_ids()
        document = {
            "shieldwall_threat_model": 1,
            **{key: value for key, value in self.model.items() if value is not None},
            **{section: items for section, items in self.sections.items() if items},
        }
        try:
            spec = ThreatModelSpec.model_validate(document)
        except ValidationError as exc:
            problems = [problem for _, problem in validation_problems(exc)]
            raise self._unconvertible(problems) from None
        problems = [f"{format_loc(loc)}: {p}" for loc, p in reference_problems(spec, catalogue())]
        if problems:
            raise self._unconvertible(problems)
        return ImportResult(spec, self.notes, f"{self.source} file {self.path.name}")

    def _unconvertible(self, problems: list[str]) -> InputError:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return self.fail(f"cannot be converted to a Shieldwall model: {problems[0]}{more}")

    def _settle_flow_ids(self) -> None:
        """Flows keep the default id (``source-to-target``) unless another flow joins the
        same pair or an element already has that id: those get ids from their names."""
        flows = self.sections["flows"]
        pairs = Counter((f["source"], f["target"]) for f in flows if "id" not in f)
        keys: set[str] = {f["id"] for f in flows if "id" in f}
        for flow in flows:
            if "id" in flow:
                continue
            default = f"{flow['source']}-to-{flow['target']}"
            if pairs[(flow["source"], flow["target"])] == 1 and default not in self._taken | keys:
                keys.add(default)
                continue
            flow["id"] = self.new_id(flow.get("name") or default, default)
            keys.add(flow["id"])
