"""A display in a real browser with JavaScript on: create it through the form (its start date is
filled in for today and Chromium must keep it), then place and remove volumes by scanning.
The scan form has radio inputs named "action", which shadow form.action in JavaScript: the scan
must still be posted to the form's own address."""

import pytest

from collections_app.models import Display, Item
from collections_app.tests.browser_steps import scan, sign_in
from conftest import DESKTOP, PHONE, make_item

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def volumes(sui_librarian, sui_consignment, sui_central):
    return [
        make_item(sui_consignment, sui_central, f"NL4400000{n}", title=f"非遗专题 {n}")
        for n in range(3)
    ]


@pytest.mark.parametrize("browser_page", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_a_display_is_created_and_filled_by_scanning(
    browser_page, live_server, volumes, sui_central, screenshot
):
    page = browser_page
    sign_in(page, "suixian")
    page.goto(f"/collections/displays/new/?site={sui_central.pk}")
    starts = page.locator("input[name=starts_on]")
    assert starts.input_value(), "Chromium dropped the start date the page filled in"
    page.select_option("select[name=site]", value=str(sui_central.pk))
    page.fill("input[name=name]", "非遗专架")
    page.click("button[type=submit]:has-text('创建')")
    page.wait_for_selector("h1:has-text('非遗专架')")
    display = Display.objects.get(name="非遗专架")

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    for volume in volumes:
        line = scan(page, volume.barcode)
        assert "已上架" in line.inner_text(), line.inner_text()
    assert page.locator("[data-count=volumes]").inner_text() == "3"

    page.check("input[name=action][value=remove]")
    line = scan(page, volumes[0].barcode)
    assert "已下架" in line.inner_text(), line.inner_text()
    assert page.locator("[data-count=volumes]").inner_text() == "2"

    assert all("RadioNodeList" not in url for url in requests), requests
    assert set(Item.objects.filter(display=display).values_list("barcode", flat=True)) == {
        volumes[1].barcode,
        volumes[2].barcode,
    }
    screenshot(page, "scanned")
