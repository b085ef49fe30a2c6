"""Notifier URLs: parsed once, shown only in a redacted form.

A notifier URL carries secrets (an SMTP password, a Slack token in the path, a webhook signing
secret or an API key in the query), and it reaches logs and error messages through the
notifier's name. Everything shown comes from ``NotifierURL.redacted``: the scheme, the host,
the port and "/…" for a path; never the user info, the path itself or the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from shieldwall.errors import InputError


@dataclass(frozen=True, slots=True)
class NotifierURL:
    parts: SplitResult
    redacted: str

    @property
    def scheme(self) -> str:
        return self.parts.scheme

    def error(self, problem: str) -> InputError:
        return InputError(f"notifier {self.redacted}: {problem}")

    def host(self) -> str:
        if not self.parts.hostname:
            raise self.error("no host")
        return self.parts.hostname

    def port(self) -> int | None:
        try:
            return self.parts.port
        except ValueError:
            # The exception text repeats the port, which may be the start of a password.
            raise self.error("the port is not a number from 0 to 65535") from None

    def credentials(self) -> tuple[str, str] | None:
        """User name and password, percent-decoded; None when the URL has neither."""
        user, password = self.parts.username, self.parts.password
        if user is None and password is None:
            return None
        if not user or password is None:
            raise self.error("give both a user name and a password, or neither")
        return unquote(user), unquote(password)

    def options(self, known: frozenset[str]) -> dict[str, str]:
        """The query as a dict; a typo in an option name is an error, not a silent default."""
        found: dict[str, str] = {}
        for name, value in parse_qsl(self.parts.query, keep_blank_values=True):
            if name not in known:
                expected = ", ".join(sorted(known)) or "none"
                raise self.error(f"unknown option {name!r} (known: {expected})")
            if name in found:
                raise self.error(f"option {name!r} is given twice")
            found[name] = value
        return found

    def http_target(self, query: str | None = None) -> str:
        """The http(s) URL a ``name+https://`` URL stands for, with ``query`` instead of its
        own when given."""
        self.host()
        self.port()
        return self.parts._replace(
            scheme=self.scheme.partition("+")[2],
            query=self.parts.query if query is None else query,
            fragment="",
        ).geturl()


def parse_notifier_url(url: str) -> NotifierURL:
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise InputError("notifier URL is not a URL (is a password not percent-encoded?)") from None
    if not parts.scheme:
        raise InputError("notifier URL has no scheme, such as webhook+https:// or smtp://")
    if _credentials_spilled(parts):
        raise InputError(
            f"notifier {parts.scheme}:…: '@' after the host; percent-encode '/', '?', '#' and '@' "
            "in the user name and password (e.g. %2F for '/')"
        )
    return NotifierURL(parts, _redact(parts, has_authority=text.partition(":")[2].startswith("//")))


def _credentials_spilled(parts: SplitResult) -> bool:
    """Whether an unencoded '/', '?' or '#' in a password ended the host part early.

    ``smtp://user:12/34@host`` parses as host "user", port 12 and path "/34@host": the host and
    port that error messages show would then be pieces of the user info. No notifier takes an
    '@' in a path, a fragment or an option name, so one there means this happened.
    """
    names = (name for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return "@" in parts.path or "@" in parts.fragment or any("@" in name for name in names)


def _redact(parts: SplitResult, *, has_authority: bool) -> str:
    if not has_authority:
        return f"{parts.scheme}:" + ("…" if parts.path else "")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = parts.port
    except ValueError:
        port = None
    where = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{where}" + ("/…" if parts.path.strip("/") else "")
