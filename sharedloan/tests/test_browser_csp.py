"""The Content-Security-Policy in a real browser: every demo role signs in and opens every page
of its navigation and the first record each list links to; the superuser also walks the admin,
and the API's Swagger UI runs. `browser_page` fails the test on any CSP violation, console error
or uncaught exception the pages report, naming the page and what was refused."""

from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from sharedloan.tests.browser_steps import DEMO_PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Links that change state on GET or leave the pages: never followed.
SKIP = ("/logout/", "/i18n/", "/export", ".csv", ".xlsx", ".pdf", "/labels", "/api/", "/delete/")


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--today", "2026-06-30", "--scale", "0.02", stdout=StringIO())


def local_links(page, selector):
    hrefs = page.eval_on_selector_all(selector, "links => links.map(link => link.href)")
    paths = []
    for href in hrefs:
        parts = urlsplit(href)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.netloc == urlsplit(page.url).netloc and not any(s in path for s in SKIP):
            paths.append(path)
    return list(dict.fromkeys(paths))


def visit(page, path, visited):
    if path in visited:
        return
    visited.add(path)
    response = page.goto(path)
    assert response.status < 400, f"{path} answered {response.status}"
    page.wait_for_load_state("load")


@pytest.mark.parametrize("username", ["suixian", "xiaolin", "zengdu", "hubei", "nlc", "admin"])
def test_no_page_of_a_demo_role_breaks_the_policy(browser_page, demo, username):
    page = browser_page
    sign_in(page, username, password=DEMO_PASSWORD)
    visited = set()
    for path in local_links(page, "#site-nav nav a"):
        visit(page, path, visited)
        for record in local_links(page, "main table a")[:1]:
            visit(page, record, visited)
    assert len(visited) >= 5
    assert page.problems == []


def test_the_admin_and_the_api_docs_keep_the_policy(browser_page, demo):
    page = browser_page
    sign_in(page, "admin", password=DEMO_PASSWORD)
    visited = set()
    visit(page, "/admin/", visited)
    for changelist in local_links(page, "#content-main th a")[:12]:
        visit(page, changelist, visited)
        for record in local_links(page, "#result_list th a")[:1]:
            visit(page, record, visited)
            visit(page, record.replace("/change/", "/history/"), visited)
    visit(page, "/admin/axes/accessattempt/", visited)
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info")
    assert page.problems == []


def test_the_browser_fixture_catches_an_inline_script_and_a_console_error(browser_page, db):
    page = browser_page
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "document.title = 'injected'";
        document.head.appendChild(script);
        console.error("a console error");
    }"""
    )
    for _ in range(50):  # the reports cross from the page to Python asynchronously
        if len(page.problems) >= 2:
            break
        page.wait_for_timeout(100)
    assert page.title() != "injected"
    assert any("CSP script-src" in problem for problem in page.problems), page.problems
    assert any("a console error" in problem for problem in page.problems), page.problems
    page.problems.clear()  # expected here; any other test fails on them


def test_the_buttons_that_had_inline_handlers_still_work(
    browser_page, sui_librarian, sui_central, xiaolin_site
):
    from collections_app.models import Transfer

    transfer = Transfer.objects.create(
        library=sui_central.library,
        source=sui_central,
        destination=xiaolin_site,
        reason=Transfer.Reason.ALLOCATION,
    )
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "suixian")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_selector("nav[aria-label]")

    # A filter that applies as soon as it is chosen.
    page.goto("/collections/transfers/")
    with page.expect_navigation():
        page.select_option("select[name=state]", "cancelled")
    assert "state=cancelled" in page.url

    # Print buttons print.
    page.goto(f"/collections/transfers/{transfer.pk}/pick-list/")
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    page.click("button[data-print]")
    assert page.evaluate("() => window.printed") is True

    # A step that cannot be undone asks first; declining keeps the transfer.
    page.goto(f"/collections/transfers/{transfer.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("button:has-text('取消调拨单')")
    page.wait_for_timeout(300)
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.DRAFT
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button:has-text('取消调拨单')")
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.CANCELLED
