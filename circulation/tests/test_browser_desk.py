"""The desk in a real browser, at desktop and phone width: scan a card, lend three books (one
refused with its reason), return one at another site and follow the routing, renew one, place a
hold and fill it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from circulation.models import Hold, Loan, LoanRule, Patron
from circulation.services.loans import loan_checkout
from collections_app.models import Item, Transfer
from conftest import DESKTOP, PHONE, make_item
from sharedloan.tests.browser_steps import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def county(sui_librarian, sui_consignment, sui_central, xiaolin_site):
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=sui_central.library, category=category, loan_days=30, max_items=5
        )
    reader = Patron.objects.create(
        library=sui_central.library,
        card_number="SX0001",
        name="张小明",
        category=Patron.Category.STUDENT,
        home_site=sui_central,
    )
    Patron.objects.create(
        library=sui_central.library,
        card_number="SX0002",
        name="刘洋",
        category=Patron.Category.ADULT,
        home_site=sui_central,
    )
    books = [
        make_item(sui_consignment, sui_central, f"NL7000000{n}", title=title)
        for n, title in enumerate(["活着", "平凡的世界", "白鹿原", "围城", "红岩"])
    ]
    Item.objects.filter(pk=books[2].pk).update(status=Item.Status.DAMAGED)
    loan_checkout(
        user=sui_librarian,
        site=sui_central,
        patron=reader,
        barcode=books[4].barcode,
        now=timezone.now() - timedelta(days=25),
    )
    return books


def fits(page, width):
    return page.evaluate("document.documentElement.scrollWidth") <= width


def scan(page, code):
    count = page.locator("#desk-log > li").count()
    page.fill("#desk-code", code)
    page.press("#desk-code", "Enter")
    page.wait_for_function(f"document.querySelectorAll('#desk-log > li').length > {count}")
    assert page.evaluate("document.activeElement.id") == "desk-code"
    return page.locator("#desk-log > li").first


@pytest.mark.parametrize(
    ("browser_page", "width"),
    [(DESKTOP, 1280), (PHONE, 390)],
    indirect=["browser_page"],
    ids=["desktop", "phone"],
)
def test_a_day_at_the_desk(browser_page, width, county, screenshot):
    page = browser_page
    sign_in(page, "suixian", "/desk/SUIXIAN/central/")
    page.wait_for_selector("h1:has-text('借还台 · 随县图书馆总馆')")
    assert page.evaluate("document.activeElement.id") == "desk-code"

    entry = scan(page, "SX0001")
    assert "张小明" in entry.inner_text()
    page.wait_for_selector("#desk-reader .desk-reader-name:has-text('张小明')")
    assert "扫描图书条码" in page.inner_text("#desk-prompt")
    assert "借出" in scan(page, "NL70000000").inner_text()
    with page.expect_response(lambda response: response.url.endswith("/scan/")) as answer:
        assert "借出" in scan(page, "NL70000001").inner_text()
    assert "loan" in answer.value.json() and "reader" not in answer.value.json()
    refused = scan(page, "NL70000002")
    assert "状态是“损坏”，不能借出" in refused.inner_text()
    assert "desk-entry-error" in refused.get_attribute("class")
    page.wait_for_selector("#desk-reader:has-text('在借 3 册')")
    # After the card the panel came whole; each checkout added its line alone, in the panel's
    # order: the book lent 25 days ago falls due first.
    lines = page.locator("#desk-reader [data-desk-loans] > li")
    assert lines.count() == 3
    assert [lines.nth(n).locator("code").inner_text() for n in range(3)] == [
        "NL70000004",
        "NL70000000",
        "NL70000001",
    ]
    screenshot(page, "1-checkout")
    assert fits(page, width)

    # Renew the book lent 25 days ago, with F4.
    page.keyboard.press("F4")
    assert "续借" in page.inner_text("#desk-prompt")
    assert "已续借" in scan(page, "NL70000004").inner_text()
    assert Loan.objects.get(item=county[4], returned_at=None).renewals == 1

    # Another reader asks for 活着, which is out: a hold for pickup here.
    reader = Patron.objects.get(card_number="SX0002")
    page.goto(f"/readers/{reader.pk}/")
    page.fill("input[name=code]", "NL70000000")
    page.click("button:has-text('预约')")
    page.wait_for_selector(".message-success:has-text('已预约《活着》')")
    screenshot(page, "2-hold-placed")
    assert fits(page, width)

    # Return 平凡的世界 at the 小林一中 service point: it belongs to the central library.
    page.goto("/desk/SUIXIAN/xiaolin/")
    page.keyboard.press("F3")
    entry = scan(page, "NL70000001")
    assert "送回所属站点“随县图书馆总馆”" in entry.inner_text()
    again = scan(page, "NL70000001")
    assert "之前已经归还" in again.inner_text()
    screenshot(page, "3-return-elsewhere")
    assert fits(page, width)
    page.reload()
    page.wait_for_selector(".desk-pending:has-text('送往 随县图书馆总馆：1 册')")
    page.click(".desk-pending button:has-text('发出')")
    page.wait_for_selector(".message-success:has-text('已发出')")
    assert Transfer.objects.get().status == "dispatched"
    assert Item.objects.get(barcode="NL70000001").status == "in_transit"

    # 活着 comes back at the central library: trapped for 刘洋, then lent to him.
    page.goto("/desk/SUIXIAN/central/?mode=return")
    entry = scan(page, "NL70000000")
    assert "放到预约架：为读者 刘洋" in entry.inner_text()
    page.keyboard.press("F2")
    scan(page, "SX0001")
    assert "已为预约的读者保留" in scan(page, "NL70000000").inner_text()
    scan(page, "SX0002")
    assert "预约已取书" in scan(page, "NL70000000").inner_text()
    assert Hold.objects.get().status == "fulfilled"
    screenshot(page, "4-hold-filled")
    assert fits(page, width)

    page.goto("/overdue/")
    page.wait_for_selector("h1:has-text('逾期未还')")
    screenshot(page, "5-overdue")
    assert fits(page, width)
