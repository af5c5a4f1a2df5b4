"""待取预约书 in a real browser, on a desktop and on a phone: from the desk to the list, a copy
scanned off the shelf leaves it for the hold draft, with no CSP violation or script error."""

from datetime import timedelta

import pytest
from django.utils import timezone

from circulation.services.holds import hold_place
from conftest import DESKTOP, PHONE, make_item
from sharedloan.tests.browser_steps import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("browser_page", "width"),
    [(DESKTOP, 1280), (PHONE, 390)],
    indirect=["browser_page"],
    ids=["desktop", "phone"],
)
def test_the_librarian_pulls_a_copy_from_the_list(
    browser_page, width, sui_librarian, sui_consignment, sui_branch, xiaolin_site, li, screenshot
):
    book = make_item(sui_consignment, sui_branch, "NL53000001", title="白鹿原", clc="I247.5")
    hold_place(
        user=sui_librarian,
        patron=li,
        title=book.title,
        pickup_site=xiaolin_site,
        now=timezone.now() - timedelta(days=2),
    )
    page = browser_page
    sign_in(page, "suixian", f"/desk/SUIXIAN/{sui_branch.code}/")
    page.click("a:has-text('待取预约书')")
    page.wait_for_selector("h1:has-text('待取预约书')")
    row = page.locator("tbody tr")
    assert row.count() == 1 and "NL53000001" in row.inner_text() and "小林一中" in row.inner_text()
    assert page.locator("button[data-print]").is_visible()
    screenshot(page, "1-holds-to-pull")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.fill("#pull-code", "NL53000001")
    with page.expect_navigation():
        page.press("#pull-code", "Enter")
    page.wait_for_selector("text=送往取书站点“小林一中”")
    assert page.locator("tbody tr").count() == 0
    screenshot(page, "2-pulled")
