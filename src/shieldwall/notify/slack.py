"""Slack incoming webhooks: ``slack+https://hooks.slack.com/services/T…/B…/…``.

``slack+http://`` is accepted too, for the self-hosted chat servers that take Slack's format
(Mattermost, Rocket.Chat) on an internal network. The whole path of a Slack webhook URL is the
token; only the host is ever shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shieldwall.notify import Notice, NotifierFactory
from shieldwall.notify.http import encode_json, post_json
from shieldwall.notify.url import NotifierURL
from shieldwall.text import clean, one_line

# Slack's limits: beyond them it rejects the whole message.
HEADER_MAX = 150
TEXT_MAX = 3000

# Slack reads <...> as links and mentions (<!channel>): text from scanners and people must not
# be able to write them, so these three are escaped as Slack asks.
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


@dataclass(frozen=True, slots=True)
class SlackNotifier:
    name: str
    target: str = field(repr=False)

    @classmethod
    def from_url(cls, url: NotifierURL) -> SlackNotifier:
        return cls(url.redacted, url.http_target())

    def send(self, notice: Notice) -> None:
        post_json(self.name, self.target, encode_json(slack_message(notice)))


def slack_message(notice: Notice) -> dict[str, object]:
    """The incoming-webhook payload: ``text`` for the notification, blocks for the channel."""
    subject = one_line(notice.subject)
    blocks: list[dict[str, object]] = [
        # plain_text is shown as is (no links, no mentions): nothing to escape.
        {"type": "header", "text": {"type": "plain_text", "text": clean(subject, HEADER_MAX)}}
    ]
    if notice.body.strip():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(notice.body)}})
    if notice.url:
        button = {"type": "plain_text", "text": "Open in Shieldwall"}
        blocks.append(
            {"type": "actions", "elements": [{"type": "button", "text": button, "url": notice.url}]}
        )
    return {"text": escape(subject), "blocks": blocks}


def escape(text: str, limit: int = TEXT_MAX) -> str:
    """``text`` with ``&``, ``<``, ``>`` escaped, cut to ``limit`` characters after escaping."""
    escaped = "".join(_ESCAPES.get(char, char) for char in clean(text))
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")  # every "&" starts an escape: do not leave half of one
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


SCHEMES: dict[str, NotifierFactory] = {
    "slack+https": SlackNotifier.from_url,
    "slack+http": SlackNotifier.from_url,
}
