"""The whole receipt in a real browser: announce a consignment, preview and commit its
manifest, scan a box (one unknown and one duplicate barcode among them), sign off, and export
the missing list; on a desktop and on a phone."""

import pytest

from collections_app.models import Consignment, Item
from collections_app.tests.manifest_files import csv_bytes, rows
from conftest import DESKTOP, PHONE
from sharedloan.tests.browser_steps import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def scan(page, code, expect):
    field = page.locator("#id_barcode")
    field.type(code)
    field.press("Enter")
    page.wait_for_selector(f"[data-result].receipt-{expect} >> text={code}")


@pytest.mark.parametrize("browser_page", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_a_librarian_receives_a_consignment_from_announcement_to_the_missing_list(
    browser_page, screenshot, sui_librarian, sui_central, nlc, tmp_path
):
    page = browser_page
    manifest = tmp_path / "国图清单.csv"
    manifest.write_bytes(csv_bytes(rows(8), encoding="gb18030"))
    sign_in(page, "suixian", "/collections/consignments/")

    page.click("text=登记新批次")
    page.fill("input[name=reference]", "NLC-2024-SX")
    page.fill("input[name=agreement_date]", "2024-03-01")
    screenshot(page, "1-announce")
    page.click("button:has-text('登记')")
    page.wait_for_selector("h1:has-text('NLC-2024-SX')")

    page.click("a.button:has-text('导入清单')")
    page.set_input_files("input[name=file]", str(manifest))
    page.click("button:has-text('检查并预览')")
    page.wait_for_selector("text=预览（尚未写入）")
    assert "GB18030" in page.inner_text(".import-preview")
    screenshot(page, "2-preview")
    assert not Item.objects.exists()
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=8 册待验收")
    assert Item.objects.filter(status="expected").count() == 8

    page.click("button:has-text('开始验收')")
    page.wait_for_selector("#id_barcode")
    assert page.evaluate("document.activeElement.id") == "id_barcode"
    for code in ["NL2100000001", "NL2100000002", "NL2100000003"]:
        scan(page, code, "received")
    scan(page, "NL2100000002", "already")
    scan(page, "NOTOURS-77", "extra")
    page.check("input[name=damaged]")
    scan(page, "NL2100000004", "damaged")
    assert page.evaluate("document.activeElement.id") == "id_barcode"
    assert page.inner_text("[data-count=received]") == "4"
    assert page.inner_text("[data-count=extra]") == "1"
    screenshot(page, "3-scan")

    page.click("a.button:has-text('核对与签收')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('确认签收')")
    page.wait_for_selector("text=已签收")
    screenshot(page, "4-signed-off")
    consignment = Consignment.objects.get(reference="NLC-2024-SX")
    assert consignment.status == "active"
    assert consignment.signed_off_by == sui_librarian

    with page.expect_download() as download:
        page.click("[data-export=missing-csv]")
    content = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in content[1:]] == [
        "NL2100000005",
        "NL2100000006",
        "NL2100000007",
        "NL2100000008",
    ]
