"""One reminder run: end expired exceptions, then send the reminders due.

``shieldwall sla remind`` (cron), the server's job thread (SQLite) and ``shieldwall worker``
(PostgreSQL, a periodic task) all run this, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shieldwall.config import Settings
from shieldwall.db.engine import Database
from shieldwall.exceptions import service as exceptions
from shieldwall.notify import Notice, notifiers_from_urls, send_all
from shieldwall.risk.policy import current_policy
from shieldwall.risk.reports import mark_sent, reminders
from shieldwall.risk.service import current_priorities


@dataclass
class ReminderRun:
    expired: list[str] = field(default_factory=list)
    """The uids of the exceptions this run ended."""
    due: list[Notice] = field(default_factory=list)
    """Every notice due; with ``sent`` False they were not sent (dry run, no notifiers)."""
    sent: bool = False
    failures: list[str] = field(default_factory=list)
    """One line per notice and notifier that failed."""


def run_reminders(db: Database, settings: Settings, *, dry_run: bool = False) -> ReminderRun:
    """Expire, then send. Notices are sent outside the database transaction (a slow mail
    server must not hold SQLite's write lock); a notice is recorded as sent once at least one
    notifier took it, so a crash in between sends it again rather than never."""
    policy = current_policy(settings.policy)
    notifiers = notifiers_from_urls(settings.notifiers)
    run = ReminderRun(sent=bool(notifiers) and not dry_run)
    current_priorities(db, policy)
    with db.write() as session:
        run.expired = [ended.uid for ended in exceptions.expire(session, policy)]
        due = reminders(session, policy, settings.base_url)
    run.due = [notice for notice, _ in due]
    if not run.sent:
        return run
    delivered: list[str] = []
    for notice, keys in due:
        failures = send_all(notifiers, notice)
        run.failures += failures
        if len(failures) < len(notifiers):
            delivered += keys
    if delivered:
        with db.write() as session:
            mark_sent(session, delivered)
    return run
