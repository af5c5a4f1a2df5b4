"""A reader on a 390 px phone signs in, sees their loans, renews one, places a hold from a title
page, sees it in the account, and shows the electronic reader card, which a scanner reads as the
card number."""

from datetime import timedelta

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image

from circulation.models import Hold, Loan
from circulation.services.loans import loan_checkout
from circulation.services.patrons import patron_set_pin
from conftest import PHONE

NO_OVERFLOW = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True)
def test_a_reader_on_a_phone_signs_in_renews_holds_and_shows_the_e_card(
    browser_page, catalogue, reader, sui_librarian, tmp_path
):
    patron_set_pin(user=sui_librarian, patron=reader, pin="2468")
    loan = loan_checkout(
        user=sui_librarian, site=catalogue.xiaolin, card_number="SX900001", barcode="SX00000004"
    ).loan
    # Borrowed three weeks ago: renewing now moves the due date on.
    Loan.objects.filter(pk=loan.pk).update(
        checked_out_at=timezone.now() - timedelta(days=21),
        due_at=timezone.now() + timedelta(days=9),
    )
    old_due = timezone.localtime(Loan.objects.get(pk=loan.pk).due_at).strftime("%Y-%m-%d")

    page = browser_page
    page.goto("/catalogue/SUIXIAN/")
    page.click(".reader-slot")
    page.fill("#id_card_number", "SX900001")
    page.fill("#id_pin", "2468")
    page.click(".reader-form button")
    # Back where the reader came from, now signed in.
    page.wait_for_url("**/catalogue/SUIXIAN/")
    page.click(".reader-slot")
    page.wait_for_url("**/account/")

    loans = page.locator(".reader-loans > li")
    assert loans.count() == 1
    assert "活着" in loans.first.inner_text()
    assert old_due in loans.first.inner_text()
    assert page.evaluate(NO_OVERFLOW)

    loans.first.locator("button").click()
    page.wait_for_selector(".reader-message.success")
    assert "已续借" in page.locator(".reader-message").inner_text()
    assert old_due not in page.locator(".reader-loans > li").first.inner_text()
    assert Loan.objects.get(pk=loan.pk).renewals == 1

    # 乡土中国 from its title page, for pickup at the branch.
    page.goto(f"/catalogue/SUIXIAN/titles/{catalogue.earth.pk}/")
    page.select_option(".reader-hold select", str(catalogue.branch.pk))
    page.click(".reader-hold button")
    page.wait_for_url("**/account/")
    holds = page.locator(".reader-holds > li")
    assert holds.count() == 1
    assert "乡土中国" in holds.first.inner_text()
    # Its one copy stands free at the central library: it is fetched for the reader.
    assert f"“{catalogue.central.name}”架上有书，将调取送到“{catalogue.branch.name}”" in (
        holds.first.inner_text()
    )
    assert Hold.objects.get(patron=reader).pickup_site == catalogue.branch
    assert page.evaluate(NO_OVERFLOW)

    # The e-card, as the desk's scanner sees the phone screen.
    page.click("text=电子读者证")
    page.wait_for_url("**/account/card/")
    page.wait_for_function(
        "() => [...document.images].every((image) => image.complete && image.naturalWidth > 0)"
    )
    assert page.evaluate(NO_OVERFLOW)
    for selector, kind in ((".reader-ecard-barcode", "Code128"), (".reader-ecard-qr", "QRCode")):
        shot = tmp_path / f"{kind}.png"
        page.locator(selector).screenshot(path=str(shot))
        found = zxingcpp.read_barcodes(Image.open(shot))
        assert [(r.format.name, r.text) for r in found] == [(kind, "SX900001")]

    page.click("text=返回我的账户")
    page.click("text=退出登录")
    page.wait_for_url("**/catalogue/SUIXIAN/")
    assert page.locator(".reader-slot").inner_text() == "登录"
