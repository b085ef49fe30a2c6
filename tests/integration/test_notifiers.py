"""Notifiers against real local servers: an HTTP server for web hooks and Slack, aiosmtpd for
e-mail. Nothing is mocked between the notifier and the socket."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from shieldwall.config import Settings
from shieldwall.errors import InputError
from shieldwall.notify import Notice, NotifyError, notifiers_from_urls, send_all
from tests.conftest import unavailable

SECRET = "s3cret-signing-key"
TOKEN_PATH = "/services/T0001/B0002/tokenTOKENtoken"
PASSWORD = "hunter2/p@ss:word"  # '/', '@' and ':' must be percent-encoded in the URL
PASSWORD_IN_URL = "hunter2%2Fp%40ss%3Aword"

NOTICE = Notice(
    kind="sla_breached",
    subject="P1 finding F-abc on payments-api breached its SLA on 2026-11-25",
    body="Breached by 3 days.\nOwner: team payments.",
    url="https://shieldwall.example.com/findings/F-abc",
    recipients=("owner@example.com", "lead@example.com"),
    fields={"finding_id": "F-abc", "service": "payments-api", "priority": "P1"},
)


# --- a real HTTP receiver -------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver(ThreadingHTTPServer):
    status = 204
    requests: list[Received]

    def url(self, scheme: str, path: str) -> str:
        return f"{scheme}://127.0.0.1:{self.server_address[1]}{path}"


class RecordingHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(Received(self.path, self.headers, body))
        self.send_response(self.server.status)
        if 300 <= self.server.status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output to the test's own


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), RecordingHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- web hooks ------------------------------------------------------------------------------


def test_webhook_posts_the_notice_signed_without_the_secret_in_the_url(receiver: Receiver) -> None:
    url = receiver.url("webhook+http", f"/hooks/abc?team=pay%20ments&secret={SECRET}")
    [notifier] = notifiers_from_urls([url])

    notifier.send(NOTICE)

    [request] = receiver.requests
    assert request.path == "/hooks/abc?team=pay%20ments"  # other options reach it unchanged
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "kind": "sla_breached",
        "subject": NOTICE.subject,
        "body": NOTICE.body,
        "url": NOTICE.url,
        "fields": {"finding_id": "F-abc", "service": "payments-api", "priority": "P1"},
    }
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Shieldwall-Signature"] == f"sha256={expected}"
    assert SECRET not in notifier.name
    assert SECRET not in repr(notifier)
    assert "/hooks/abc" not in notifier.name


def test_webhook_without_secret_is_not_signed(receiver: Receiver) -> None:
    [notifier] = notifiers_from_urls([receiver.url("webhook+http", "/hook")])
    notifier.send(NOTICE)
    assert "X-Shieldwall-Signature" not in receiver.requests[0].headers


def test_a_failing_receiver_gives_one_line_without_the_secret_or_the_path(
    receiver: Receiver,
) -> None:
    receiver.status = 500
    [notifier] = notifiers_from_urls(
        [receiver.url("webhook+http", f"{TOKEN_PATH}?secret={SECRET}")]
    )

    with pytest.raises(NotifyError) as caught:
        notifier.send(NOTICE)

    message = caught.value.message
    assert "HTTP 500" in message
    assert "\n" not in message
    assert SECRET not in message
    assert "tokenTOKENtoken" not in message


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.status = 302
    [notifier] = notifiers_from_urls([receiver.url("webhook+http", "/hook")])

    with pytest.raises(NotifyError, match=r"HTTP 302 .* not followed"):
        notifier.send(NOTICE)
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_slack_gets_an_incoming_webhook_message_with_escaped_text(receiver: Receiver) -> None:
    [notifier] = notifiers_from_urls([receiver.url("slack+http", TOKEN_PATH)])
    hostile = Notice(
        kind="sla_due_soon",
        subject="R&D <!channel> finding due",
        body="Title from the scanner: <https://evil.example|click me> & more",
        url="https://shieldwall.example.com/findings/F-abc",
    )

    notifier.send(hostile)

    [request] = receiver.requests
    assert request.path == TOKEN_PATH
    message = request.json()
    assert message["text"] == "R&amp;D &lt;!channel&gt; finding due"
    header, section, actions = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "R&D <!channel> finding due"},
    }
    assert section["text"] == {
        "type": "mrkdwn",
        "text": "Title from the scanner: &lt;https://evil.example|click me&gt; &amp; more",
    }
    [button] = actions["elements"]
    assert button["type"] == "button"
    assert button["url"] == "https://shieldwall.example.com/findings/F-abc"
    assert "tokenTOKENtoken" not in notifier.name


def test_slack_message_without_link_has_no_button(receiver: Receiver) -> None:
    [notifier] = notifiers_from_urls([receiver.url("slack+http", TOKEN_PATH)])
    notifier.send(Notice(kind="sla_due_soon", subject="due soon", body="body"))
    assert [b["type"] for b in receiver.requests[0].json()["blocks"]] == ["header", "section"]


def test_send_all_delivers_to_the_others_when_one_fails(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"webhook+http://127.0.0.1:{free_port()}{TOKEN_PATH}?secret={SECRET}"
    notifiers = notifiers_from_urls([closed, "log:", receiver.url("webhook+http", "/hook")])

    with caplog.at_level(logging.INFO, logger="shieldwall.notify"):
        failures = send_all(notifiers, NOTICE)

    [failure] = failures
    assert failure.startswith("webhook+http://127.0.0.1:")
    assert "could not connect" in failure
    assert [r.path for r in receiver.requests] == ["/hook"]
    assert any(NOTICE.subject in r.getMessage() for r in caplog.records)  # the log: notifier
    assert any(failure in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert SECRET not in caplog.text
    assert "tokenTOKENtoken" not in caplog.text


# --- log ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "level"),
    [
        ("sla_breached", logging.WARNING),
        ("exception_expired", logging.WARNING),
        ("sla_due_soon", logging.INFO),
        ("exception_expiring", logging.INFO),
    ],
)
def test_log_notifier_is_louder_for_what_is_overdue(
    kind: str, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    [notifier] = notifiers_from_urls(["log://"])
    notice = Notice(kind=kind, subject="Exception E-1 expires", body="line one\nforged: line")

    with caplog.at_level(logging.INFO, logger="shieldwall.notify"):
        notifier.send(notice)

    [record] = caplog.records
    assert record.name == "shieldwall.notify"
    assert record.levelno == level
    assert record.getMessage() == f"{kind}: Exception E-1 expires | line one forged: line"


# --- e-mail ---------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the SMTP server accepted: envelope sender, recipients and the message."""

    mail: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        content = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(content, EmailMessage)
        self.mail.append((envelope.mail_from, list(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = data.login == b"shieldwall" and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


def run_smtp(mailbox: Mailbox, **options: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def smtp_port(mailbox: Mailbox) -> Iterator[int]:
    yield from run_smtp(mailbox)


@pytest.fixture
def tls_smtp_port(
    mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[int]:
    """A server that requires STARTTLS and AUTH, with a certificate this test's clients trust."""
    if shutil.which("openssl") is None:
        unavailable("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what ssl.create_default_context trusts
    yield from run_smtp(
        mailbox,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=mailbox.authenticate,
    )


def test_email_reaches_owners_and_listed_addresses_once(mailbox: Mailbox, smtp_port: int) -> None:
    url = (
        f"smtp://127.0.0.1:{smtp_port}"
        "?from=shieldwall@example.com&to=security@example.com,Owner@example.com"
    )
    [notifier] = notifiers_from_urls([url])

    notifier.send(NOTICE)

    [(sender, recipients, message)] = mailbox.mail
    assert sender == "shieldwall@example.com"
    assert recipients == ["owner@example.com", "lead@example.com", "security@example.com"]
    assert message["From"] == "shieldwall@example.com"
    assert message["To"] == "owner@example.com, lead@example.com, security@example.com"
    assert message["Subject"] == NOTICE.subject
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content().replace("\r\n", "\n")
    assert body.startswith("Breached by 3 days.\nOwner: team payments.\n")
    assert NOTICE.url is not None
    assert NOTICE.url in body


def test_email_with_nobody_to_send_to_is_an_error(mailbox: Mailbox, smtp_port: int) -> None:
    [notifier] = notifiers_from_urls([f"smtp://127.0.0.1:{smtp_port}?from=sw@example.com"])
    with pytest.raises(NotifyError, match="no recipients"):
        notifier.send(Notice(kind="sla_due_soon", subject="s", body="b"))
    assert mailbox.mail == []


def test_email_refuses_a_bad_recipient_address(mailbox: Mailbox, smtp_port: int) -> None:
    [notifier] = notifiers_from_urls([f"smtp://127.0.0.1:{smtp_port}?from=sw@example.com"])
    notice = Notice(kind="sla_due_soon", subject="s", body="b", recipients=("a\r\nRCPT TO:<b>",))
    with pytest.raises(NotifyError, match="is not an e-mail address"):
        notifier.send(notice)
    assert mailbox.mail == []


def test_email_over_starttls_logs_in_with_the_decoded_password(
    mailbox: Mailbox, tls_smtp_port: int
) -> None:
    url = (
        f"smtp://shieldwall:{PASSWORD_IN_URL}@127.0.0.1:{tls_smtp_port}"
        "?from=shieldwall@example.com&starttls=true"
    )
    [notifier] = notifiers_from_urls([url])

    notifier.send(NOTICE)

    assert mailbox.logins == [(b"shieldwall", PASSWORD.encode())]
    [(_, recipients, _)] = mailbox.mail
    assert recipients == ["owner@example.com", "lead@example.com"]
    assert "hunter2" not in repr(notifier)
    assert "hunter2" not in notifier.name


def test_an_untrusted_certificate_stops_before_the_password_is_sent(
    mailbox: Mailbox, tls_smtp_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    url = (
        f"smtp://shieldwall:{PASSWORD_IN_URL}@127.0.0.1:{tls_smtp_port}"
        "?from=shieldwall@example.com&starttls=true"
    )
    [notifier] = notifiers_from_urls([url])

    with pytest.raises(NotifyError, match="CERTIFICATE_VERIFY_FAILED"):
        notifier.send(NOTICE)

    assert mailbox.logins == []
    assert mailbox.mail == []


def test_a_refused_login_does_not_show_the_password(mailbox: Mailbox, tls_smtp_port: int) -> None:
    url = (
        f"smtp://shieldwall:wrong-hunter3@127.0.0.1:{tls_smtp_port}"
        "?from=shieldwall@example.com&starttls=true"
    )
    [notifier] = notifiers_from_urls([url])

    with pytest.raises(NotifyError) as caught:
        notifier.send(NOTICE)

    assert "535" in caught.value.message
    assert "hunter3" not in caught.value.message
    assert mailbox.mail == []


def test_a_closed_smtp_port_is_an_error() -> None:
    [notifier] = notifiers_from_urls([f"smtp://127.0.0.1:{free_port()}?from=sw@example.com"])
    with pytest.raises(NotifyError, match="connection failed"):
        notifier.send(NOTICE)


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://x", "unknown scheme 'ftp'"),
        ("webhook+https://", "no host"),
        ("slack+https:///services/T/B/hunter2", "no host"),
        ("smtp://host?from=notanemail", "'notanemail' is not an e-mail address"),
        ("smtp://host?to=a@example.com", "no sender"),
        ("smtp://host?from=a@example.com&tls=true", "unknown option 'tls'"),
        ("smtps://host?from=a@example.com&starttls=true", "TLS from the start"),
        ("smtp://user:hunter2@host?from=a@example.com", "must not travel in clear"),
        ("smtp://user@host?from=a@example.com&starttls=true", "user name and a password"),
        ("smtp://user:hunter2/x@host?from=a@example.com", "percent-encode"),
        ("smtp://user:1234/hunter2@host?from=a@example.com", "percent-encode"),
        ("smtps://user:hunter2@host:99999?from=a@example.com", "port"),
        ("webhook+https://h/x?secret=", "'secret' is empty"),
        ("log:hunter2", "takes no host, path or options"),
        ("", "no scheme"),
    ],
)
def test_bad_urls_are_one_line_errors_without_secrets(url: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        notifiers_from_urls(["log:", url])

    message = caught.value.message
    assert problem in message
    assert "\n" not in message
    assert "hunter2" not in message
    assert "1234" not in message


def test_every_documented_scheme_is_served() -> None:
    urls = [
        "log:",
        "webhook+https://hooks.example.com/x",
        "webhook+http://10.0.0.5:8080/x",
        "slack+https://hooks.slack.com/services/T/B/X",
        "smtp://mail.example.com?from=a@example.com&to=b@example.com",
        "smtps://u:p@mail.example.com?from=a@example.com",
    ]
    names = [n.name for n in notifiers_from_urls(urls)]
    assert names == [
        "log:",
        "webhook+https://hooks.example.com/…",
        "webhook+http://10.0.0.5:8080/…",
        "slack+https://hooks.slack.com/…",
        "smtp://mail.example.com",
        "smtps://mail.example.com",
    ]


@pytest.mark.parametrize(
    "value",
    [
        '["log:", "smtp://m?from=a@example.com&to=b@example.com,c@example.com"]',
        "log:, smtp://m?from=a@example.com&to=b@example.com,c@example.com",
        "log: smtp://m?from=a@example.com&to=b@example.com,c@example.com",
    ],
)
def test_notifiers_setting_reads_json_or_a_plain_list(
    value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no shieldwall.toml
    monkeypatch.delenv("SHIELDWALL_CONFIG", raising=False)
    monkeypatch.setenv("SHIELDWALL_NOTIFIERS", value)
    assert Settings().notifiers == [
        "log:",
        "smtp://m?from=a@example.com&to=b@example.com,c@example.com",
    ]
