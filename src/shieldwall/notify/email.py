"""E-mail through an SMTP server.

``smtp://[user:password@]host[:port]?from=a@example.com&to=b@example.com,c@example.com``
(port 25; ``&starttls=true`` to upgrade to TLS) or ``smtps://...`` (TLS from the first byte,
port 465). A notice goes to its own recipients (the owners) and to the ``to=`` addresses, each
once. Certificates are verified, and a password is refused where it would travel in clear
(``smtp://`` without ``starttls=true``): a reminder is not worth a mail account.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from email_validator import EmailNotValidError, validate_email

from shieldwall.errors import ShieldwallError
from shieldwall.notify import Notice, NotifierFactory, NotifyError
from shieldwall.notify.url import NotifierURL
from shieldwall.text import one_line

TIMEOUT = 10.0
"""Seconds for each step with the server: a hung server must not hold up reminders."""

OPTIONS = frozenset({"from", "to", "starttls"})
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
SUBJECT_MAX = 200


@dataclass(frozen=True, slots=True)
class EmailNotifier:
    name: str
    host: str
    port: int
    sender: str
    to: tuple[str, ...] = ()
    implicit_tls: bool = False
    starttls: bool = False
    credentials: tuple[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: NotifierURL) -> EmailNotifier:
        if url.parts.path.strip("/") or url.parts.fragment:
            raise url.error("takes no path; give the addresses as ?from=...&to=...")
        options = url.options(OPTIONS)
        senders = _addresses([options.get("from", "")], url.error)
        if not senders:
            raise url.error("no sender: add ?from=address")
        starttls = options.get("starttls", "false").lower()
        if starttls not in ("true", "false"):
            raise url.error("starttls must be true or false")
        implicit_tls = url.scheme == "smtps"
        if implicit_tls and starttls == "true":
            raise url.error("smtps:// is TLS from the start; starttls applies to smtp://")
        credentials = url.credentials()
        if credentials and not implicit_tls and starttls != "true":
            raise url.error("a password must not travel in clear: use smtps:// or starttls=true")
        return cls(
            name=url.redacted,
            host=url.host(),
            port=url.port() or DEFAULT_PORTS[url.scheme],
            sender=senders[0],
            to=tuple(_addresses(options.get("to", "").split(","), url.error)),
            implicit_tls=implicit_tls,
            starttls=starttls == "true",
            credentials=credentials,
        )

    def send(self, notice: Notice) -> None:
        recipients = _addresses([*notice.recipients, *self.to], self._error)
        if not recipients:
            raise self._error("the notice has no recipients and the URL no to=")
        message = self._message(notice, recipients)
        try:
            with self._connect() as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.credentials:
                    smtp.login(*self.credentials)
                refused = smtp.send_message(message, self.sender, recipients)
        except smtplib.SMTPResponseException as exc:
            raise self._error(_answer(exc.smtp_code, exc.smtp_error)) from None
        except smtplib.SMTPRecipientsRefused:
            raise self._error("the server refused every recipient") from None
        except smtplib.SMTPException as exc:
            # smtplib's own wording: "STARTTLS extension not supported by server."
            raise self._error(one_line(str(exc))) from None
        except TimeoutError:
            raise self._error(f"no answer within {TIMEOUT:g} s") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise self._error(f"connection failed ({reason})") from None
        if refused:
            raise self._error(
                f"the server refused {', '.join(sorted(refused))} "
                "(the other recipients were sent the notice)"
            )

    def _error(self, problem: str) -> NotifyError:
        return NotifyError(f"{self.name}: {problem}")

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT, context=context)
        return smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)

    def _message(self, notice: Notice, recipients: list[str]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = one_line(notice.subject, SUBJECT_MAX)
        message["Date"] = formatdate(usegmt=True)
        # Given the domain, make_msgid does not look up this host's name (slow on some hosts).
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        message["X-Shieldwall-Kind"] = notice.kind  # for people's mail filters
        link = f"\n\n{notice.url}" if notice.url else ""
        message.set_content(f"{notice.body.rstrip()}{link}\n")
        return message


def _addresses(values: Iterable[str], error: Callable[[str], ShieldwallError]) -> list[str]:
    """Normalised, each once (addresses differing only in case are one), blanks skipped; or
    ``error`` for the first that is not an address. Validating also keeps line breaks and SMTP
    syntax out of the envelope and the headers."""
    found: dict[str, str] = {}
    for value in filter(None, (v.strip() for v in values)):
        try:
            address = validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError:
            raise error(f"{value[:80]!r} is not an e-mail address") from None
        found.setdefault(address.lower(), address)
    return list(found.values())


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return f"the server answered {code} {one_line(text, 200)}"


SCHEMES: dict[str, NotifierFactory] = {
    "smtp": EmailNotifier.from_url,
    "smtps": EmailNotifier.from_url,
}
