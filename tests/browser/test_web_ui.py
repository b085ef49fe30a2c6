"""The web UI as people use it, in a real browser: log in, follow the findings a CI import
brought, triage, log out; team scoping; the same work from the keyboard alone.

Locators are by role and accessible name (label, caption, link text) wherever a role fits,
so these tests also check that the pages can be used with assistive technology. The pages
are boosted by htmx (links and forms load over fetch), so the tests wait for URLs and
elements, never for fixed times.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from shieldwall.findings.models import Finding
from tests.browser.conftest import PASSWORD, Server, csp_violations, watch_console

PLATFORM_ENGINEER = "raj@example.com"
GROWTH_ENGINEER = "mo@example.com"
REASON = "only reachable from the test harness"


def url(server: Server, path: str) -> re.Pattern[str]:
    """The page at ``path``, with any query string."""
    return re.compile(re.escape(server.url + path) + r"(\?.*)?$")


def log_in(page: Page, server: Server, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(url(server, "/"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def nav_link(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def findings_table(page: Page) -> Locator:
    return page.get_by_role("table", name=re.compile(r"^Findings"))


def finding_links(page: Page) -> Locator:
    return findings_table(page).get_by_role("link")


def test_an_engineer_triages_an_imported_finding_then_logs_out(page: Page, server: Server) -> None:
    server.user(PLATFORM_ENGINEER, ["platform"])
    log_in(page, server, PLATFORM_ENGINEER)

    # CI uploads a report through the API while the engineer is logged in.
    done = server.import_report("payments-api")
    assert done["summary"]["created"] == 2, done

    nav_link(page, "Findings").click()
    expect(page).to_have_url(url(server, "/findings"))
    # Active findings only, by default: the report's second one is suppressed in the source.
    expect(page.get_by_role("heading", name="Findings (1)", level=1)).to_be_visible()
    expect(finding_links(page)).to_have_count(1)
    link = finding_links(page).first
    title = link.inner_text()
    href = link.get_attribute("href")
    assert href
    assert re.fullmatch(r"/findings/[0-9a-f]+", href), href

    link.click()
    expect(page).to_have_url(url(server, href))
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    page.get_by_label("Status").select_option("false_positive")
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Save triage").click()

    history = page.get_by_role("table", name="Status changes, who made them and why")
    change = history.get_by_role("row").filter(has_text=f"user:{PLATFORM_ENGINEER}")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("false_positive")
    expect(change).to_contain_text(REASON)
    expect(page).to_have_url(url(server, href))

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(url(server, "/login"))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto("/findings")
    expect(page).to_have_url(url(server, "/login"))
    expect(page.get_by_label("Email")).to_be_visible()


def test_an_engineer_sees_only_the_findings_of_their_teams(page: Page, server: Server) -> None:
    server.import_report("payments-api")  # platform's service
    server.user(GROWTH_ENGINEER, ["growth"])
    with server.db.read() as session:  # one of platform's findings
        theirs = f"/findings/{session.scalars(select(Finding.uid)).first()}"

    log_in(page, server, GROWTH_ENGINEER)
    nav_link(page, "Findings").click()
    expect(page).to_have_url(url(server, "/findings"))
    expect(page.get_by_role("heading", name="Findings (0)", level=1)).to_be_visible()
    expect(findings_table(page).get_by_role("cell", name="No findings match.")).to_be_visible()
    expect(finding_links(page)).to_have_count(0)

    answer = page.goto(theirs)
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Not found", level=1)).to_be_visible()

    page.goto("/services")
    services = page.get_by_role("table", name="Services of your teams")
    expect(services.get_by_role("link", name="web", exact=True)).to_be_visible()
    expect(services.get_by_role("link", name="payments-api")).to_have_count(0)
    expect(services.get_by_role("link", name="ledger")).to_have_count(0)


def focused(locator: Locator) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Presses Tab until ``target`` has the focus: it must be reachable from the keyboard."""
    for _ in range(limit):
        if focused(target):
            return
        page.keyboard.press("Tab")
    assert focused(target), f"{target} was not reached in {limit} presses of Tab"


def test_everything_from_the_keyboard(page: Page, server: Server) -> None:
    server.user(PLATFORM_ENGINEER, ["platform"])
    server.import_report("payments-api")

    page.goto("/login")
    expect(page.get_by_label("Email")).to_be_focused()  # autofocus: type straight away
    page.keyboard.type(PLATFORM_ENGINEER)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(url(server, "/"))

    # The first stop on the page is the link past the header.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    tab_to(page, nav_link(page, "Findings"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(url(server, "/findings"))
    expect(finding_links(page)).to_have_count(1)
    title = finding_links(page).first.inner_text()
    href = finding_links(page).first.get_attribute("href")
    assert href

    pick = page.get_by_role("checkbox", name=f"Select {title}")
    tab_to(page, pick)
    page.keyboard.press("Space")
    expect(pick).to_be_checked()
    new_status = page.get_by_label("New status")
    tab_to(page, new_status)
    page.keyboard.type("not_affected")  # type-ahead in a closed select picks the option
    expect(new_status).to_have_value("not_affected")
    tab_to(
        page, page.get_by_role("group", name="Triage the selected findings").get_by_label("Reason")
    )
    page.keyboard.type(REASON)
    tab_to(page, page.get_by_role("button", name="Triage selected"))
    page.keyboard.press("Enter")

    # Back on the list of active findings, which the triaged one has left.
    expect(page.get_by_role("heading", name="Findings (0)", level=1)).to_be_visible()
    expect(findings_table(page).get_by_role("cell", name="No findings match.")).to_be_visible()
    page.goto(href)
    history = page.get_by_role("table", name="Status changes, who made them and why")
    expect(history.get_by_role("row").filter(has_text=f"user:{PLATFORM_ENGINEER}")).to_contain_text(
        "not_affected"
    )
    # The status itself is a <dd> of a description list: no role or name to find it by.
    expect(page.locator("dd#status")).to_have_text(
        f"not_affected: {REASON} (user:{PLATFORM_ENGINEER})"
    )


def test_a_refused_form_shows_why(page: Page, server: Server) -> None:
    """htmx swaps error answers in too: a refused change is explained, not silently dropped."""
    server.user(PLATFORM_ENGINEER, ["platform"])
    server.import_report("payments-api")
    log_in(page, server, PLATFORM_ENGINEER)
    nav_link(page, "Findings").click()
    expect(finding_links(page)).to_have_count(1)
    group = page.get_by_role("group", name="Triage the selected findings")
    group.get_by_label("Reason").fill(REASON)
    group.get_by_role("button", name="Triage selected").click()  # nothing selected
    expect(page.get_by_role("heading", name="That did not work", level=1)).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("choose at least one finding to triage")


def test_the_console_watch_sees_csp_violations(browser: Browser, server: Server) -> None:
    """The check every test makes is not vacuous: an inline script on a page is refused by
    the policy and the refusal reaches the watched console."""
    context = browser.new_context(base_url=server.url)
    try:
        page = context.new_page()
        messages = watch_console(page)
        page.goto("/login")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        with page.expect_console_message(lambda m: m.type == "error"):
            page.evaluate(
                "() => { const s = document.createElement('script');"
                " s.textContent = 'window.ran = true'; document.head.append(s); }"
            )
        assert page.evaluate("() => window.ran === undefined"), "the inline script ran"
        assert csp_violations(messages), messages
    finally:
        context.close()
