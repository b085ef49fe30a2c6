"""Any web hook: the notice as JSON, optionally signed so that the receiver can trust it.

``webhook+https://host/path?secret=S``: the ``secret`` option is taken off the URL, so it never
travels, and signs the exact body with HMAC-SHA256 in ``X-Shieldwall-Signature:
sha256=<hex>``, as GitHub signs its webhooks (receivers verify with a constant-time compare).
Other query options stay in the URL: some receivers take their token there.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from shieldwall.notify import Notice, NotifierFactory
from shieldwall.notify.http import encode_json, post_json
from shieldwall.notify.url import NotifierURL

SIGNATURE_HEADER = "X-Shieldwall-Signature"


@dataclass(frozen=True, slots=True)
class WebhookNotifier:
    name: str
    target: str = field(repr=False)
    secret: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: NotifierURL) -> WebhookNotifier:
        kept: list[str] = []
        secrets: list[str] = []
        # Split by hand rather than parse and re-encode: the options kept must reach the
        # receiver byte for byte.
        for option in filter(None, url.parts.query.split("&")):
            key, _, value = option.partition("=")
            if unquote_plus(key) == "secret":
                secrets.append(unquote_plus(value))
            else:
                kept.append(option)
        if len(secrets) > 1:
            raise url.error("option 'secret' is given twice")
        if secrets and not secrets[0]:
            raise url.error("option 'secret' is empty")
        secret = secrets[0].encode() if secrets else None
        return cls(url.redacted, url.http_target(query="&".join(kept)), secret)

    def send(self, notice: Notice) -> None:
        body = encode_json(
            {
                "kind": notice.kind,
                "subject": notice.subject,
                "body": notice.body,
                "url": notice.url,
                "fields": dict(notice.fields),
            }
        )
        headers = {}
        if self.secret is not None:
            digest = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        post_json(self.name, self.target, body, headers)


SCHEMES: dict[str, NotifierFactory] = {
    "webhook+https": WebhookNotifier.from_url,
    "webhook+http": WebhookNotifier.from_url,
}
