"""The pages in a real browser: sign in as the Sui County librarian, read the dashboard, filter
the items and open one, on a desktop and on a phone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from circulation.models import Loan, Patron
from collections_app.models import Display, Item, ItemEvent, Transfer, TransferLine
from conftest import DESKTOP, PHONE, make_item
from sharedloan.tests.browser_steps import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

BOOKS = [
    ("活着", "I247.57"),
    ("平凡的世界", "I247.5"),
    ("中国通史", "K20"),
    ("植物学", "Q94"),
    ("果树栽培技术", "S66"),
    ("小学数学思维训练", "O1-49"),
]


@pytest.fixture
def county(sui_librarian, sui_item, xiaolin_item, sui_consignment, sui_central, sui_branch):
    items = [
        make_item(sui_consignment, site, f"NL00000{n}{k}", title=title, clc=clc)
        for n, (title, clc) in enumerate(BOOKS, start=10)
        for k, site in enumerate((sui_central, sui_branch))
    ]
    patron = Patron.objects.create(
        library=sui_central.library,
        card_number="SX0001",
        name="张小明",
        category=Patron.Category.STUDENT,
        home_site=sui_central,
    )
    now = timezone.now()
    for item in items[:3]:
        Item.objects.filter(pk=item.pk).update(status=Item.Status.ON_LOAN)
        out = now - timedelta(days=40)
        ItemEvent.objects.bulk_create(
            [
                ItemEvent(
                    library=item.library,
                    item=item,
                    kind=ItemEvent.Kind.RECEIVED,
                    at=out - timedelta(days=300),
                    to_status="available",
                    to_site=item.home_site,
                    user=sui_librarian,
                ),
                ItemEvent(
                    library=item.library,
                    item=item,
                    kind=ItemEvent.Kind.CHECKED_OUT,
                    at=out,
                    from_status="available",
                    to_status="on_loan",
                    from_site=item.home_site,
                    to_site=item.home_site,
                    user=sui_librarian,
                ),
            ]
        )
        Loan.objects.create(
            library=item.library,
            item=item,
            patron=patron,
            site=sui_central,
            checked_out_at=out,
            due_at=now - timedelta(days=10),
        )
    sent = now - timedelta(days=12)
    transfer = Transfer.objects.create(
        library=sui_central.library,
        source=sui_branch,
        destination=xiaolin_item.current_site,
        reason=Transfer.Reason.ROTATION,
        status=Transfer.Status.DISPATCHED,
        created_at=sent,
        dispatched_at=sent,
    )
    Item.objects.filter(pk=items[3].pk).update(status=Item.Status.IN_TRANSIT)
    TransferLine.objects.create(library=sui_central.library, transfer=transfer, item=items[3])
    display = Display.objects.create(
        library=sui_central.library,
        site=sui_central,
        name="乡土中国主题展",
        kind=Display.Kind.SHOWCASE,
        starts_on=now.date(),
    )
    Item.objects.filter(pk=sui_item.pk).update(display=display)
    return items


def fits(page, width):
    return page.evaluate("document.documentElement.scrollWidth") <= width


def open_menu_if_collapsed(page):
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible():
        toggle.click()


@pytest.mark.parametrize(
    ("browser_page", "width"),
    [(DESKTOP, 1280), (PHONE, 390)],
    indirect=["browser_page"],
    ids=["desktop", "phone"],
)
def test_the_librarian_signs_in_filters_items_and_opens_one(
    browser_page, width, county, screenshot
):
    page = browser_page
    page.goto("/")
    assert "/accounts/login/" in page.url
    screenshot(page, "1-login")
    assert fits(page, width)
    page.fill("input[name=username]", "suixian")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]:has-text('登录')")

    page.wait_for_selector("h1:has-text('随县图书馆 · 概览')")
    page.wait_for_function("() => window.Chart && Chart.getChart('loans-chart')")
    assert page.locator(".stat-alert").count() == 2  # overdue loans and transfer
    screenshot(page, "2-dashboard")
    assert fits(page, width)

    open_menu_if_collapsed(page)
    screenshot(page, "3-menu")
    page.click("nav >> text=图书")
    page.wait_for_selector("h1:has-text('图书')")
    page.select_option("select[name=clc]", "I")
    page.select_option("select[name=status]", "available")
    page.click("button:has-text('筛选')")
    page.wait_for_selector(".result-count:has-text('共 1 册')")
    screenshot(page, "4-items")
    assert fits(page, width)

    page.click("a:has-text('NL00000002')")
    page.wait_for_selector("h1:has-text('活着')")
    screenshot(page, "5-item")
    assert fits(page, width)

    page.goto("/collections/items/NL00000100/")
    page.wait_for_selector("text=SX0001 张小明")
    screenshot(page, "6-item-on-loan")
    assert fits(page, width)
    page.goto("/collections/sites/")
    screenshot(page, "7-sites")
    assert fits(page, width)
    page.click("a:has-text('随县图书馆总馆')")
    page.wait_for_selector("h1:has-text('随县图书馆总馆')")
    screenshot(page, "8-site")
    assert fits(page, width)


@pytest.mark.parametrize("browser_page", [PHONE], indirect=True, ids=["phone"])
def test_a_bad_isbn_shows_its_error_on_a_phone(browser_page, county, screenshot):
    page = browser_page
    sign_in(page, "suixian", "/collections/items/?isbn=12345")
    page.wait_for_selector(".field.has-error .error")
    screenshot(page, "bad-isbn")
    assert fits(page, 390)


@pytest.mark.parametrize(
    ("browser_page", "width"),
    [(DESKTOP, 1280), (PHONE, 390)],
    indirect=["browser_page"],
    ids=["desktop", "phone"],
)
@pytest.mark.parametrize("username", ["hubei", "nlc", "xiaolin"])
def test_the_other_dashboards_fit_the_screen(
    browser_page,
    width,
    username,
    county,
    zengdu_item,
    hubei_reviewer,
    nlc_lender,
    xiaolin_volunteer,
    screenshot,
):
    page = browser_page
    sign_in(page, username)
    page.wait_for_function("() => window.Chart && Chart.getChart('loans-chart')")
    screenshot(page, "dashboard")
    assert fits(page, width)
