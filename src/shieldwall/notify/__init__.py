"""Reminders to people (SLA due or breached, exception expiring or expired), sent through the
notifiers an operator configures.

A notifier is configured by a URL; its scheme picks the module that sends it. Each module in
this package lists the schemes it serves in ``SCHEMES``, found by discovery as the report
formats are: adding a notifier is adding a module. Nothing is imported from those modules and
nothing goes out on the network until a notifier is built and a notice sent.

Notifier URLs carry secrets. A notifier's ``name`` is its redacted URL, and every message a
notifier raises or logs is built from it and from what the remote side answered, never from
the URL itself.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from shieldwall.errors import ShieldwallError
from shieldwall.notify.url import NotifierURL, parse_notifier_url

__all__ = [
    "OVERDUE_KINDS",
    "Notice",
    "Notifier",
    "NotifyError",
    "notifiers_from_urls",
    "send_all",
]

# Not "log": importing the submodule shieldwall.notify.log rebinds that name in this package.
logger = logging.getLogger(__name__)

OVERDUE_KINDS = frozenset({"sla_breached", "exception_expired"})
"""Kinds whose deadline has passed rather than is coming: notifiers make these louder."""


@dataclass(frozen=True, slots=True)
class Notice:
    kind: str
    """sla_due_soon, sla_breached, exception_expiring, exception_expired."""
    subject: str
    """One line: "P1 finding F-abc on payments-api breaches its SLA on 2026-11-25"."""
    body: str
    """A few lines of plain text."""
    url: str | None = None
    """The finding or exception in the web UI, when the server's base URL is known."""
    recipients: tuple[str, ...] = ()
    """E-mail addresses of the owners (team manager, requester); may be empty."""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Flat data for machines (finding_id, service, team, priority, due...): webhooks send it."""

    @property
    def overdue(self) -> bool:
        return self.kind in OVERDUE_KINDS


class Notifier(Protocol):
    @property
    def name(self) -> str:
        """The redacted URL: safe to log and to show."""
        ...

    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` or raise ``NotifyError``."""
        ...


class NotifyError(ShieldwallError):
    """A notice was not delivered. The message is one line that names the notifier by its
    redacted URL and never carries a secret."""


NotifierFactory = Callable[[NotifierURL], Notifier]
"""Builds a notifier from its URL; raises ``InputError`` (through ``NotifierURL.error``)."""


@cache
def registry() -> dict[str, NotifierFactory]:
    found: dict[str, NotifierFactory] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        schemes: dict[str, NotifierFactory] = getattr(module, "SCHEMES", {})
        for scheme, factory in schemes.items():
            if scheme in found:
                raise RuntimeError(f"two notifiers serve the scheme {scheme!r}")
            found[scheme] = factory
    return found


def notifiers_from_urls(urls: Sequence[str]) -> list[Notifier]:
    """The notifiers configured by ``urls``: all of them, or ``InputError`` for the first bad
    one (so a typo is found when the configuration is read, not when a reminder is due)."""
    factories = registry()
    notifiers = []
    for url in urls:
        parsed = parse_notifier_url(url)
        factory = factories.get(parsed.scheme)
        if factory is None:
            raise parsed.error(
                f"unknown scheme {parsed.scheme!r} (known: {', '.join(sorted(factories))})"
            )
        notifiers.append(factory(parsed))
    return notifiers


def send_all(notifiers: Sequence[Notifier], notice: Notice) -> list[str]:
    """Send ``notice`` through every notifier; return one line per notifier that failed.

    A notifier that fails (a chat service down, a mail server refusing) must not cost the
    others their notice, so each failure is logged and collected rather than raised.
    """
    failures = []
    for notifier in notifiers:
        try:
            notifier.send(notice)
        except NotifyError as exc:
            problem = exc.message
        except Exception as exc:
            # A bug in one notifier. Its message could hold anything (a library's exception
            # may quote the URL it was given), so only the type is reported.
            problem = f"{notifier.name}: internal error ({type(exc).__name__})"
        else:
            continue
        logger.error("%s notice not sent: %s", notice.kind, problem)
        failures.append(problem)
    return failures
