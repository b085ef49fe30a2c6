"""The risk pages in a real browser: a team's priority queue, a finding's "Why this priority",
an exception requested from a finding's page and decided on the exceptions page under the
policy's decision rights, and the status of the intelligence feeds.

The data: CI imports trufflehog's report into payments-api (platform's internet-facing tier 0
service: a secret verified as live is a P0, an unverified one a P1), semgrep's into ledger
(platform, internal, tier 1: a P2) and gitleaks' into web (growth's: P3s).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from shieldwall.auth import service as auth
from shieldwall.auth.policy import Role, TokenScope
from shieldwall.intel import store
from tests.browser.conftest import Server
from tests.browser.test_web_ui import focused, log_in, nav_link, tab_to, url
from tests.conftest import fixture

ENGINEER = "lee@example.com"
"""An engineer of team platform (a plain member: not its manager or champion)."""
MANAGER = "boss@example.com"
"""A manager of team platform: may approve P2 to P4 exceptions, not P0 or P1."""
SECURITY = "sec@example.com"
ADMIN = "root@example.com"

TRUFFLEHOG = fixture("reports", "trufflehog", "v3.jsonl")
"""Two secrets: "AWS secret", verified as live, and "Postgres secret", not verified."""
SEMGREP = fixture("reports", "semgrep", "semgrep-code.json")
"""One active code finding, "Detected user input used to build a raw SQL query."."""
GITLEAKS = fixture("reports", "gitleaks", "v8.json")
"""Three secrets, none of them named like platform's findings."""
LIVE_SECRET = "AWS secret"
SECRET = "Postgres secret"
SQL = "Detected user input used to build a raw SQL query."
GROWTH_TITLES = (
    "Detected a Generic API Key",
    "Identified a pattern that may indicate AWS credentials",
    "Identified a Private Key",
)

DEMO_INTEL = Path(__file__).resolve().parents[2] / "examples" / "demo" / "intel"
REASON = "the database is only reachable from the private network"
CONTROLS = "network policy denies ingress; the password is rotated weekly"


# --- data and people -----------------------------------------------------------------------


def import_as_growth(server: Server, service: str, path: Path) -> None:
    """Uploads a report as growth's CI does, with a token of its own (the server's is platform's)."""
    with server.db.write() as session:
        token = auth.create_token(
            session,
            name="growth-ci",
            team="growth",
            scope=TokenScope.INGEST,
            expires_days=None,
            actor="test",
        ).token
    dataclasses.replace(server, ingest_token=token).import_report(service, path)


def organisation_findings(server: Server) -> None:
    server.import_report("payments-api", TRUFFLEHOG)
    server.import_report("ledger", SEMGREP)
    import_as_growth(server, "web", GITLEAKS)


def switch_user(page: Page, server: Server, email: str) -> None:
    """Logs out whoever is logged in, and logs ``email`` in."""
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(url(server, "/login"))
    log_in(page, server, email)


def today() -> date:
    """The server's day (it works in UTC)."""
    return datetime.now(UTC).date()


# --- what the pages show -------------------------------------------------------------------


def team_section(page: Page, team: str) -> Locator:
    return page.get_by_role("region", name=team, exact=True)


def priority_tiles(page: Page, team: str) -> Locator:
    """The counts by priority (and of SLAs breached) at the head of a team's queue."""
    return team_section(page, team).get_by_role("list").first.get_by_role("listitem")


def queue_rows(page: Page, team: str) -> Locator:
    table = page.get_by_role("table", name=f"Most urgent findings of {team}")
    return table.get_by_role("row").filter(has=page.get_by_role("cell"))


def exceptions_table(page: Page) -> Locator:
    return page.get_by_role("table", name="Risk exceptions, newest request first")


def exception_row(page: Page, reason: str) -> Locator:
    return exceptions_table(page).get_by_role("row").filter(has_text=reason)


def cells(row: Locator) -> Locator:
    return row.get_by_role("cell")


def fact(section: Locator, term: str) -> Locator:
    """The value of ``term`` in a description list (a <dd>: no role or name to find it by)."""
    return section.locator(f"dt:text-is('{term}') + dd")


# Columns of the exceptions table.
STATE, PRIORITY, SERVICE, COVERS, WHY, EXPIRES, REQUESTER, DECISION = range(8)


def open_from_queue(page: Page, server: Server, title: str) -> str:
    """Follows the queue's link to a finding; the finding's page path."""
    nav_link(page, "Queue").click()
    expect(page).to_have_url(url(server, "/queue"))
    link = page.get_by_role("link", name=title, exact=True)
    href = link.get_attribute("href")
    assert href
    assert re.fullmatch(r"/findings/[0-9a-f]+", href), href
    link.click()
    expect(page).to_have_url(url(server, href))
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    return href


def request_exception(page: Page, server: Server, reason: str, expires: date) -> None:
    """Fills and sends the exception form of the finding's page shown."""
    form = page.get_by_role("heading", name="Request an exception", level=2)
    expect(form).to_be_visible()
    page.get_by_label("Why the risk is acceptable").fill(reason)
    page.get_by_label("Compensating controls").fill(CONTROLS)
    page.get_by_label("Last day it holds").fill(expires.isoformat())
    page.get_by_role("button", name="Request exception").click()
    expect(page).to_have_url(url(server, "/exceptions"))


def decide(page: Page, reason: str, decision: str, note: str) -> None:
    """Writes a note and approves or rejects the exception requested for ``reason``."""
    row = exception_row(page, reason)
    form = row.locator("form").filter(has=page.get_by_role("button", name=decision))
    form.get_by_label("Note").fill(note)
    form.get_by_role("button", name=decision).click()


# --- the queue -----------------------------------------------------------------------------


def test_the_queue_shows_a_teams_findings_most_urgent_first(page: Page, server: Server) -> None:
    organisation_findings(server)
    server.user(ENGINEER, ["platform"])
    log_in(page, server, ENGINEER)

    nav_link(page, "Queue").click()
    expect(page).to_have_url(url(server, "/queue"))
    expect(page.get_by_role("heading", name="Priority queue", level=1)).to_be_visible()
    expect(nav_link(page, "Queue")).to_have_attribute("aria-current", "page")

    # Platform's counts: its live secret (P0), its other secret (P1), ledger's SQL injection
    # (P2); none overdue yet.
    expect(priority_tiles(page, "platform")).to_have_text(
        ["P0 1", "P1 1", "P2 1", "P3 0", "P4 0", "SLA breached 0"]
    )
    rows = queue_rows(page, "platform")
    expect(rows.get_by_role("link")).to_have_text([LIVE_SECRET, SECRET, SQL])
    expect(rows.locator("td:first-child")).to_have_text(["P0", "P1", "P2"])
    expect(rows.locator("td:nth-child(4)")).to_have_text(["payments-api", "payments-api", "ledger"])

    # Growth's findings (web's P3 secrets) are another team's: neither listed nor counted.
    expect(team_section(page, "platform")).to_be_visible()
    expect(team_section(page, "growth")).to_have_count(0)
    for title in GROWTH_TITLES:
        expect(page.get_by_role("link", name=re.compile(re.escape(title)))).to_have_count(0)
    expect(page.get_by_role("cell", name="web", exact=True)).to_have_count(0)


def test_a_security_user_sees_every_teams_queue(page: Page, server: Server) -> None:
    organisation_findings(server)
    server.user(SECURITY, [], Role.SECURITY)
    log_in(page, server, SECURITY)
    nav_link(page, "Queue").click()
    expect(priority_tiles(page, "growth")).to_have_text(
        ["P0 0", "P1 0", "P2 0", "P3 3", "P4 0", "SLA breached 0"]
    )
    expect(queue_rows(page, "growth").locator("td:first-child")).to_have_text(["P3"] * 3)
    expect(queue_rows(page, "platform").get_by_role("link")).to_have_text(
        [LIVE_SECRET, SECRET, SQL]
    )

    # One team's queue, picked from the teams' navigation.
    teams = page.get_by_role("navigation", name="Teams")
    teams.get_by_role("link", name="growth", exact=True).click()
    expect(page).to_have_url(re.compile(r"/queue\?team=growth$"))
    expect(page.get_by_role("heading", name="Priority queue: growth", level=1)).to_be_visible()
    expect(queue_rows(page, "growth")).to_have_count(3)
    expect(team_section(page, "platform")).to_have_count(0)
    teams.get_by_role("link", name="All teams").click()
    expect(page).to_have_url(url(server, "/queue"))
    expect(team_section(page, "platform")).to_be_visible()


def test_the_queue_without_findings(page: Page, server: Server) -> None:
    import_as_growth(server, "web", GITLEAKS)  # another team's
    server.user(ENGINEER, ["platform"])
    log_in(page, server, ENGINEER)
    nav_link(page, "Queue").click()
    expect(page.get_by_role("main").get_by_text("No open findings.")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)


# --- exceptions ----------------------------------------------------------------------------


def test_an_exception_is_requested_refused_to_a_manager_and_approved_by_security(
    page: Page, server: Server
) -> None:
    organisation_findings(server)
    server.user(ENGINEER, ["platform"])
    server.user(MANAGER, ["platform"], Role.MANAGER)
    server.user(SECURITY, [], Role.SECURITY)
    expires = today() + timedelta(days=14)

    # The engineer opens the P1 secret from the queue and reads why it is a P1.
    log_in(page, server, ENGINEER)
    href = open_from_queue(page, server, SECRET)
    finding_id = href.rsplit("/", 1)[1]
    why = page.get_by_role("region", name="Why this priority")
    expect(fact(why, "Priority")).to_have_text(re.compile(r"^P1 \(risk score [\d.]+\)$"))
    expect(fact(why, "Known exploited (KEV)")).to_have_text("no")
    due = today() + timedelta(days=7)  # a P1's SLA, from its import today
    expect(fact(why, "SLA")).to_have_text(f"due {due.isoformat()}, on track")
    factors = why.get_by_role("listitem")
    expect(factors).to_have_count(4)
    expect(factors.nth(0)).to_have_text("+ credential in the code, not verified as live")
    expect(factors.nth(1)).to_contain_text("service payments-api: internet-exposed, tier 0")
    expect(factors.nth(2)).to_contain_text("attend with the service internet-exposed: P1")
    expect(factors.nth(3)).to_contain_text("SLA 7 days for P1")
    expect(page.locator("dd#status")).to_have_text("open")

    request_exception(page, server, REASON, expires)
    expect(page.get_by_role("heading", name="Exceptions (1)", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("awaiting a decision: 1")
    row = exception_row(page, REASON)
    expect(row).to_have_count(1)
    expect(cells(row).nth(STATE)).to_have_text("requested")
    expect(cells(row).nth(PRIORITY)).to_have_text("P1")
    expect(cells(row).nth(SERVICE)).to_have_text("payments-api")
    expect(cells(row).nth(COVERS).get_by_role("link")).to_have_attribute("href", href)
    expect(cells(row).nth(WHY)).to_contain_text(f"Controls: {CONTROLS}")
    expect(cells(row).nth(EXPIRES)).to_have_text(expires.isoformat())
    expect(cells(row).nth(REQUESTER)).to_have_text(ENGINEER)
    # Nobody decides on their own request: the requester is offered no decision.
    expect(row.get_by_role("button")).to_have_count(0)
    expect(cells(row).nth(DECISION)).to_have_text("-")

    # A manager may decide on some exceptions, but a P1 is security's: the refusal says so.
    switch_user(page, server, MANAGER)
    nav_link(page, "Exceptions").click()
    decide(page, REASON, "Approve", "fine by me")
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(
            re.escape(f"{MANAGER} may not decide on exception ")
            + r"\S+: "
            + re.escape("a P1 exception is approved by: security (the policy's decision rights)")
        )
    )
    expect(cells(exception_row(page, REASON)).nth(STATE)).to_have_text("requested")

    # Security approves; the finding is accepted and leaves the queue.
    switch_user(page, server, SECURITY)
    nav_link(page, "Exceptions").click()
    decide(page, REASON, "Approve", "until the rotation job ships")
    expect(page).to_have_url(url(server, "/exceptions"))
    row = exception_row(page, REASON)
    expect(cells(row).nth(STATE)).to_have_text("approved")
    expect(cells(row).nth(DECISION)).to_have_text(f"{SECURITY}: until the rotation job ships")
    expect(cells(row).nth(EXPIRES)).to_contain_text(f"{expires.isoformat()} (")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("Approved: 1; awaiting a decision: 0")

    switch_user(page, server, ENGINEER)
    page.goto(href)
    expect(page.locator("dd#status")).to_have_text(
        re.compile(
            r"^accepted: "
            + re.escape(f"risk accepted until {expires.isoformat()} (exception ")
            + r"\S+\): "
            + re.escape(f"{REASON} ({SECURITY})")
            + "$"
        )
    )
    why = page.get_by_role("region", name="Why this priority")
    exception_link = fact(why, "Exception").get_by_role("link")
    expect(exception_link).to_have_attribute("href", "/exceptions")
    expect(page.locator("dd#status")).to_contain_text(
        f"(exception {exception_link.inner_text()}): "
    )
    expect(page.get_by_role("heading", name="Request an exception")).to_have_count(0)

    nav_link(page, "Queue").click()
    expect(priority_tiles(page, "platform")).to_have_text(
        ["P0 1", "P1 0", "P2 1", "P3 0", "P4 0", "SLA breached 0"]
    )
    expect(queue_rows(page, "platform").get_by_role("link")).to_have_text([LIVE_SECRET, SQL])
    assert finding_id not in page.content()


def test_an_exception_rejected_by_security_leaves_the_finding_open(
    page: Page, server: Server
) -> None:
    organisation_findings(server)
    server.user(ENGINEER, ["platform"])
    server.user(SECURITY, [], Role.SECURITY)
    reason = "the key only opens a sandbox account"

    log_in(page, server, ENGINEER)
    href = open_from_queue(page, server, LIVE_SECRET)
    # A P0 exception may last 30 days at most: asking for longer is refused with the limit.
    too_late = today() + timedelta(days=45)
    page.get_by_label("Why the risk is acceptable").fill(reason)
    page.get_by_label("Compensating controls").fill("none")
    page.get_by_label("Last day it holds").fill(too_late.isoformat())
    page.get_by_role("button", name="Request exception").click()
    expect(page.get_by_role("alert")).to_contain_text("a P0 exception may last at most 30 days")
    page.goto(href)
    request_exception(page, server, reason, today() + timedelta(days=10))
    expect(cells(exception_row(page, reason)).nth(PRIORITY)).to_have_text("P0")

    switch_user(page, server, SECURITY)
    nav_link(page, "Exceptions").click()
    decide(page, reason, "Reject", "rotate the key instead")
    expect(page).to_have_url(url(server, "/exceptions"))
    row = exception_row(page, reason)
    expect(cells(row).nth(STATE)).to_have_text("rejected")
    expect(cells(row).nth(DECISION)).to_have_text(f"{SECURITY}: rotate the key instead")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("Approved: 0; awaiting a decision: 0")

    # The filter by state finds it among the rejected ones, and not among the requested.
    page.get_by_label("State").select_option("rejected")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"\?state=rejected$"))
    expect(exception_row(page, reason)).to_have_count(1)
    page.get_by_label("State").select_option("requested")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"\?state=requested$"))
    expect(page.get_by_role("heading", name="Exceptions (0)", level=1)).to_be_visible()
    expect(exceptions_table(page).get_by_role("cell", name="No exceptions.")).to_be_visible()

    # The finding is still open, still first in the queue, and another request may be made.
    switch_user(page, server, ENGINEER)
    page.goto(href)
    expect(page.locator("dd#status")).to_have_text("open")
    expect(page.get_by_role("heading", name="Request an exception", level=2)).to_be_visible()
    nav_link(page, "Queue").click()
    expect(priority_tiles(page, "platform").first).to_have_text("P0 1")
    expect(queue_rows(page, "platform").get_by_role("link").first).to_have_text(LIVE_SECRET)


def test_reloading_after_a_refused_decision_shows_the_exceptions_page(
    page: Page, server: Server
) -> None:
    """A refusal is shown in place of the exceptions page; the address bar must still name a
    page that loads, so that a reload (or a shared link) shows the exceptions again."""
    organisation_findings(server)
    server.user(ENGINEER, ["platform"])
    server.user(MANAGER, ["platform"], Role.MANAGER)
    log_in(page, server, ENGINEER)
    open_from_queue(page, server, SECRET)
    request_exception(page, server, REASON, today() + timedelta(days=14))

    switch_user(page, server, MANAGER)
    nav_link(page, "Exceptions").click()
    decide(page, REASON, "Approve", "fine by me")
    expect(page.get_by_role("alert")).to_contain_text("a P1 exception is approved by: security")

    answer = page.reload()
    assert answer is not None
    assert answer.status == 200, f"{page.url} answers {answer.status} on reload"
    expect(page.get_by_role("heading", name=re.compile(r"^Exceptions \(\d+\)$"))).to_be_visible()


def test_the_exception_form_from_the_keyboard(page: Page, server: Server) -> None:
    organisation_findings(server)
    server.user(ENGINEER, ["platform"])
    expires = today() + timedelta(days=7)
    log_in(page, server, ENGINEER)

    tab_to(page, nav_link(page, "Queue"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(url(server, "/queue"))
    tab_to(page, page.get_by_role("link", name=SECRET, exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=SECRET, level=1)).to_be_visible()

    tab_to(page, page.get_by_label("Why the risk is acceptable"), limit=80)
    page.keyboard.type(REASON)
    tab_to(page, page.get_by_label("Compensating controls"))
    page.keyboard.type(CONTROLS)
    when = page.get_by_label("Last day it holds")
    tab_to(page, when)
    # A date field takes its parts in the locale's order (en-US: month, day, year).
    page.keyboard.type(expires.strftime("%m%d%Y"))
    expect(when).to_have_value(expires.isoformat())
    submit = page.get_by_role("button", name="Request exception")
    tab_to(page, submit)
    assert focused(submit)
    page.keyboard.press("Enter")

    expect(page).to_have_url(url(server, "/exceptions"))
    row = exception_row(page, REASON)
    expect(cells(row).nth(STATE)).to_have_text("requested")
    expect(cells(row).nth(EXPIRES)).to_have_text(expires.isoformat())
    expect(cells(row).nth(WHY)).to_contain_text(f"Controls: {CONTROLS}")


# --- intelligence feeds --------------------------------------------------------------------


def feeds_table(page: Page) -> Locator:
    return page.get_by_role("table", name=re.compile(r"^Feeds loaded"))


def test_an_admin_sees_the_feeds_loaded_and_how_old_they_are(page: Page, server: Server) -> None:
    server.user(ADMIN, [], Role.ADMIN)
    log_in(page, server, ADMIN)
    nav_link(page, "Intel feeds").click()
    expect(page).to_have_url(url(server, "/intel"))
    expect(page.get_by_role("heading", name="Intelligence feeds", level=1)).to_be_visible()
    expect(
        feeds_table(page).get_by_role("cell", name=re.compile("^No feed loaded yet"))
    ).to_have_text("No feed loaded yet: run shieldwall intel sync.")

    with server.db.write() as session:
        store.load_kev(session, DEMO_INTEL / "kev.json", origin="demo/kev.json")
        store.load_epss(session, DEMO_INTEL / "epss.csv", origin="demo/epss.csv")
    page.reload()

    rows = feeds_table(page).get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(2)
    # Both snapshots are of 2026-11-20: their age counts from that day, and each is stale
    # past its own limit (KEV 7 days, EPSS 3).
    age = max(0, (today() - date(2026, 11, 20)).days)
    epss, kev = rows.nth(0), rows.nth(1)
    expect(cells(epss)).to_have_text(
        [
            "epss",
            "6",
            "v2025.03.14",
            "2026-11-20",
            re.compile(r"^\d{4}-\d\d-\d\dT"),
            f"{age} d",
            "demo/epss.csv",
            "stale" if age > 3 else "yes",
        ]
    )
    expect(cells(kev)).to_have_text(
        [
            "kev",
            "2",
            "2026.11.20",
            "2026-11-20",
            re.compile(r"^\d{4}-\d\d-\d\dT"),
            f"{age} d",
            "demo/kev.json",
            "stale" if age > 7 else "yes",
        ]
    )
    loaded = cells(kev).nth(4).inner_text()
    assert loaded.startswith(today().isoformat()), loaded


def test_an_engineer_may_not_see_the_feed_status(page: Page, server: Server) -> None:
    server.user(ENGINEER, ["platform"])
    log_in(page, server, ENGINEER)
    expect(nav_link(page, "Queue")).to_be_visible()
    expect(nav_link(page, "Intel feeds")).to_have_count(0)

    answer = page.goto("/intel")
    assert answer is not None
    assert answer.status == 403
    expect(page.get_by_role("heading", name="Not allowed", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "feed status is for admins, security and auditors"
    )
    expect(page.get_by_role("table")).to_have_count(0)
