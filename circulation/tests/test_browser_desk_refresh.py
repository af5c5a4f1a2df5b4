"""The desk keeps its panels true without a reload: a book the reader at the desk returns leaves
their panel, a book put on a draft transfer shows in 待发出的调拨单 at once, and on a phone the
current reader can be ended with a visible control (there is no Esc key)."""

import pytest

from circulation.models import LoanRule, Patron
from collections_app.models import Item
from conftest import DESKTOP, PHONE, make_item
from sharedloan.tests.browser_steps import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def desk(sui_librarian, sui_consignment, sui_central, xiaolin_site):
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=sui_central.library, category=category, loan_days=30, max_items=5
        )
    Patron.objects.create(
        library=sui_central.library,
        card_number="SX0001",
        name="张小明",
        category=Patron.Category.STUDENT,
        home_site=xiaolin_site,
    )
    # Two books of the central library on the service point's shelf.
    books = [
        make_item(sui_consignment, sui_central, f"NL7100000{n}", title=title)
        for n, title in enumerate(["活着", "围城"])
    ]
    Item.objects.filter(pk__in=[b.pk for b in books]).update(current_site=xiaolin_site)
    return books


def scan(page, code):
    count = page.locator("#desk-log > li").count()
    page.fill("#desk-code", code)
    page.press("#desk-code", "Enter")
    page.wait_for_function(f"document.querySelectorAll('#desk-log > li').length > {count}")
    return page.locator("#desk-log > li").first


def reader_at_the_desk(page):
    """Signed in at 小林一中's desk with 张小明's card scanned and their panel shown."""
    sign_in(page, "suixian", "/desk/SUIXIAN/xiaolin/")
    page.wait_for_selector("h1:has-text('借还台 · 小林一中')")
    scan(page, "SX0001")
    page.wait_for_selector("#desk-reader .desk-reader-name:has-text('张小明')")


@pytest.mark.parametrize("browser_page", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_a_return_updates_the_reader_and_the_pile_to_send_without_a_reload(
    browser_page, desk, screenshot
):
    page = browser_page
    sign_in(page, "suixian", "/desk/SUIXIAN/xiaolin/")
    page.wait_for_selector("h1:has-text('借还台 · 小林一中')")
    scan(page, "SX0001")
    assert "借出" in scan(page, "NL71000000").inner_text()
    assert "借出" in scan(page, "NL71000001").inner_text()
    page.wait_for_selector("#desk-reader:has-text('在借 2 册')")
    assert "没有要送走的图书" in page.inner_text("#desk-piles")

    page.check("input[name=mode][value=return]")
    entry = scan(page, "NL71000000")
    assert "已加入调拨单" in entry.inner_text()
    page.wait_for_selector("#desk-reader:has-text('在借 1 册')")
    assert "NL71000000" not in page.inner_text("#desk-reader")
    page.wait_for_selector("#desk-piles .desk-pending:has-text('送往 随县图书馆总馆：1 册')")
    screenshot(page, "after-return")

    # The pile's own button still sends the draft (its form carries a valid CSRF token).
    page.click("#desk-piles button:has-text('发出')")
    page.wait_for_selector(".message-success:has-text('已发出')")


@pytest.mark.parametrize("browser_page", [PHONE, DESKTOP], indirect=True, ids=["phone", "desktop"])
def test_the_current_reader_is_ended_with_a_visible_control(browser_page, desk):
    page = browser_page
    reader_at_the_desk(page)
    end = page.locator("#desk-reader [data-desk-end]")
    assert end.is_visible()
    end.click()
    page.wait_for_function("document.getElementById('desk-card').value === ''")
    assert page.inner_text("#desk-reader").strip() == ""
    assert "请扫描读者证" in page.inner_text("#desk-prompt")
    assert page.evaluate("document.activeElement.id") == "desk-code"
    # The next card scanned starts a new reader rather than lending to the last one.
    assert "张小明" in scan(page, "SX0001").inner_text()


@pytest.mark.parametrize("browser_page", [DESKTOP], indirect=True, ids=["desktop"])
def test_a_reader_ended_while_a_checkout_is_on_its_way_stays_ended(browser_page, desk):
    page = browser_page
    reader_at_the_desk(page)
    # The checkout's answer is held back until the librarian has pressed Esc.
    held = []
    page.route("**/scan/", lambda route: held.append(route))
    count = page.locator("#desk-log > li").count()
    page.fill("#desk-code", "NL71000000")
    page.press("#desk-code", "Enter")
    for _ in range(500):  # the request reaches the route within ten seconds
        if held:
            break
        page.wait_for_timeout(20)
    assert held, "the checkout was never sent"
    page.keyboard.press("Escape")
    page.wait_for_function("document.getElementById('desk-card').value === ''")
    held[0].continue_()
    page.wait_for_function(f"document.querySelectorAll('#desk-log > li').length > {count}")
    page.unroute("**/scan/")
    assert "借出" in page.locator("#desk-log > li").first.inner_text()
    # The book was lent; the reader stays ended: no card, no panel, the prompt asks for a card.
    assert page.eval_on_selector("#desk-card", "card => card.value") == ""
    assert page.inner_text("#desk-reader").strip() == ""
    assert "请扫描读者证" in page.inner_text("#desk-prompt")
    # So the next book is not lent to the reader who was ended.
    assert "请先扫描读者证" in scan(page, "NL71000001").inner_text()
    assert Item.objects.get(barcode="NL71000001").status == Item.Status.AVAILABLE
