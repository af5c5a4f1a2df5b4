"""The reader's whole story in one browser test, the reader on a 390 px phone and the librarian
at a desktop: the reader finds a title by its pinyin initials and sees its copy at another site,
places a hold for pickup at their own service point; the copy comes back at that other site's
desk and is trapped and sent, and received at the pickup site; the reader sees it ready, borrows
it at the desk by showing the electronic reader card (the desk scans what the card's barcode
reads as), and renews it online.

The other steps of the reader's side have their own tests (test_browser_account.py,
test_browser_catalogue.py, test_browser_self_service.py); this one proves they join up."""

from datetime import timedelta

import pytest
import zxingcpp
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from circulation.models import Hold, Loan, Patron
from circulation.services.loans import loan_checkout
from circulation.services.patrons import patron_set_pin
from collections_app.models import Item, Transfer
from collections_app.tests.browser_steps import scan as receive_scan
from conftest import DESKTOP, PHONE, watch_page, without_eval
from sharedloan.tests.browser_steps import sign_in

pytestmark = [pytest.mark.browser]

NO_OVERFLOW = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


def desk_scan(page, code):
    count = page.locator("#desk-log > li").count()
    page.fill("#desk-code", code)
    page.press("#desk-code", "Enter")
    page.wait_for_function(f"document.querySelectorAll('#desk-log > li').length > {count}")
    return page.locator("#desk-log > li").first


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True)
def test_a_reader_finds_holds_is_sent_the_copy_borrows_it_with_the_e_card_and_renews(
    browser_page, live_server, catalogue, reader, sui_librarian, tmp_path
):
    patron_set_pin(user=sui_librarian, patron=reader, pin="2468")
    # 我读红楼's one copy belongs to the 厉山 branch and is out with another reader.
    other = Patron.objects.create(
        library=catalogue.library,
        card_number="SX900002",
        name="读者乙",
        category=Patron.Category.ADULT,
        home_site=catalogue.branch,
    )
    loan_checkout(user=sui_librarian, site=catalogue.branch, card_number=other.card_number,
                  barcode="SX00000003")  # fmt: skip

    phone = browser_page
    phone.goto(f"{live_server.url}/catalogue/SUIXIAN/")
    phone.click(".reader-slot")
    phone.fill("#id_card_number", "SX900001")
    phone.fill("#id_pin", "2468")
    phone.click(".reader-form button")
    phone.wait_for_url("**/catalogue/SUIXIAN/")

    # Found by its pinyin initials; not at the reader's service point, but at the branch.
    phone.fill("#opac-q", "wdhl")
    phone.click(".opac-search button")
    result = phone.locator(".opac-results > li").first
    assert "我读红楼" in result.inner_text()
    result.locator("a").click()
    phone.wait_for_url("**/titles/**")
    copies = phone.locator(".opac-copies > li")
    assert copies.count() == 1
    assert "厉山分馆" in copies.first.inner_text()
    assert "借出 1 册" in copies.first.inner_text()
    assert phone.evaluate(NO_OVERFLOW)

    # A hold for pickup at the reader's own service point, which the form offers first.
    assert phone.locator(".reader-hold select").input_value() == str(catalogue.xiaolin.pk)
    phone.click(".reader-hold button")
    phone.wait_for_url("**/account/")
    assert "排队第 1 位" in phone.locator(".reader-holds > li").first.inner_text()
    hold = Hold.objects.get(patron=reader)

    # The librarian: the copy comes back at the branch's desk, is trapped and goes on its way.
    staff = phone.context.browser.new_context(
        viewport=DESKTOP, locale="zh-CN", base_url=live_server.url
    ).new_page()
    staff.problems = watch_page(staff.context, staff)
    staff.wait_for_function = without_eval(staff.wait_for_function)
    staff.set_default_timeout(15_000)
    sign_in(staff, "suixian", "/desk/SUIXIAN/lijiadian/?mode=return")
    entry = desk_scan(staff, "SX00000003")
    assert "读者 读者甲 预约了这本书：送往取书站点“小林一中”" in entry.inner_text()
    staff.reload()
    staff.wait_for_selector(".desk-pending:has-text('送往 小林一中：1 册')")
    staff.click(".desk-pending button:has-text('发出')")
    staff.wait_for_selector(".message-success:has-text('已发出')")
    transfer = Transfer.objects.get(destination=catalogue.xiaolin)
    assert transfer.status == Transfer.Status.DISPATCHED

    # Meanwhile the reader's account says it is on its way.
    phone.reload()
    assert "正在送往取书站点" in phone.locator(".reader-holds").inner_text()

    # Received at 小林一中.
    staff.goto(f"/collections/transfers/{transfer.pk}/receive/")
    assert "已接收" in receive_scan(staff, "SX00000003").inner_text()
    # Its only volume scanned in, the transfer is complete.
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.RECEIVED
    item = Item.objects.get(barcode="SX00000003")
    assert item.current_site == catalogue.xiaolin and item.is_available

    # The reader sees it ready at their service point.
    phone.reload()
    assert "书已到“小林一中”" in phone.locator(".reader-holds").inner_text()
    assert phone.evaluate(NO_OVERFLOW)

    # At the desk the reader shows the e-card; the desk's scanner reads the phone's screen.
    phone.click("text=电子读者证")
    phone.wait_for_url("**/account/card/")
    phone.wait_for_function(
        "() => [...document.images].every((image) => image.complete && image.naturalWidth > 0)"
    )
    shot = tmp_path / "e-card.png"
    phone.locator(".reader-ecard-barcode").screenshot(path=str(shot))
    (card,) = [found.text for found in zxingcpp.read_barcodes(Image.open(shot))]
    assert card == "SX900001"
    staff.goto("/desk/SUIXIAN/xiaolin/")
    desk_scan(staff, card)
    staff.wait_for_selector("#desk-reader .desk-reader-name:has-text('读者甲')")
    lent = desk_scan(staff, "SX00000003").inner_text()
    assert "预约已取书" in lent, lent
    hold.refresh_from_db()
    assert hold.status == Hold.Status.FULFILLED
    loan = Loan.objects.get(patron=reader, returned_at=None)
    assert loan.site == catalogue.xiaolin

    # Three weeks on, the reader renews it online.
    Loan.objects.filter(pk=loan.pk).update(
        checked_out_at=timezone.now() - timedelta(days=21),
        due_at=timezone.now() + timedelta(days=9),
    )
    phone.click("text=返回我的账户")
    phone.wait_for_url("**/account/")
    row = phone.locator(".reader-loans > li").first
    assert "我读红楼" in row.inner_text()
    row.locator("button").click()
    phone.wait_for_selector(".reader-message.success")
    assert "已续借" in phone.locator(".reader-message").inner_text()
    assert Loan.objects.get(pk=loan.pk).renewals == 1
    assert phone.evaluate(NO_OVERFLOW)

    staff.context.close()
    assert not staff.problems, staff.problems
    call_command("check_integrity")
