"""``log:``: notices go to the ``shieldwall.notify`` logger, for operators who collect logs
rather than run a chat or mail service (and as the simplest way to see what would be sent)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shieldwall.notify import Notice, NotifierFactory, logger
from shieldwall.notify.url import NotifierURL
from shieldwall.text import one_line


@dataclass(frozen=True, slots=True)
class LogNotifier:
    name: str = "log:"

    @classmethod
    def from_url(cls, url: NotifierURL) -> LogNotifier:
        parts = url.parts
        if parts.netloc or parts.path.strip("/") or parts.query or parts.fragment:
            raise url.error("takes no host, path or options")
        return cls()

    def send(self, notice: Notice) -> None:
        # One line per notice, so that text from a report cannot forge log lines.
        level = logging.WARNING if notice.overdue else logging.INFO
        logger.log(
            level,
            "%s: %s | %s%s",
            notice.kind,
            one_line(notice.subject),
            one_line(notice.body),
            f" | {notice.url}" if notice.url else "",
        )


SCHEMES: dict[str, NotifierFactory] = {"log": LogNotifier.from_url}
