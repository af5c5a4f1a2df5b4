"""In a real browser: the Sui County librarian reads the class × site report, exports it as
XLSX and submits the period report; the provincial reviewer returns it with a comment; the
librarian resubmits; the reviewer accepts; the NLC downloads the roll-up — desktop and phone."""

import pytest

from circulation.models import Patron
from conftest import DESKTOP, PHONE, make_item
from reports.models import PeriodReport
from reports.tests.helpers import lend, make_patron
from sharedloan.tests.browser_steps import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]
PERIOD = "2025-05"


@pytest.fixture
def may(
    suixian,
    sui_central,
    sui_branch,
    xiaolin_site,
    sui_consignment,
    sui_librarian,
    hubei_reviewer,
    nlc_lender,
):
    shelves = [
        (sui_central, "I247.5", 6),
        (sui_central, "K825", 3),
        (sui_branch, "TP311", 2),
        (xiaolin_site, "I287", 5),
        (xiaolin_site, "G624", 4),
    ]
    adult = make_patron(suixian, sui_central, "SX0001")
    child = make_patron(suixian, xiaolin_site, "SX0002", Patron.Category.CHILD, birth_year=2015)
    n = 0
    for site, clc, count in shelves:
        for _ in range(count):
            n += 1
            item = make_item(sui_consignment, site, f"NL4{n:07}", title=f"图书 {n}", clc=clc)
            reader = child if site == xiaolin_site else adult
            lend(item, reader, site, f"2025-05-{n:02} 10:00", returned=f"2025-05-{n + 1:02} 10:00")


@pytest.mark.parametrize("browser_page", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_class_by_site_export_then_submit_return_resubmit_accept_and_roll_up(
    browser_page, live_server, may, sui_consignment, screenshot
):
    page = browser_page
    sign_in(page, "suixian")
    page.goto(f"/reports/?period={PERIOD}&rows=clc_top&cols=site")
    heat = page.locator("#table-cross")
    assert heat.locator("tfoot td").last.inner_text() == "20"
    assert "I 文学" in heat.inner_text()
    page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length > 0")
    screenshot(page, "1-class-by-site")
    with page.expect_download() as download:
        page.locator("#cross .report-exports a:has-text('XLSX')").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.goto("/reports/period/")
    page.fill("input[name=period]", PERIOD)
    page.click("button:has-text('编制')")
    page.wait_for_selector("h1:has-text('2025-05')")
    assert page.locator(".period-totals").inner_text().count("20") >= 1
    page.fill("textarea[name=narrative]", "五月在小林一中开展读书月活动。")
    page.click("button:has-text('报送省馆')")
    page.wait_for_selector(".message-success")
    screenshot(page, "2-submitted")

    sign_in(page, "hubei")
    report = PeriodReport.objects.get()
    page.goto(f"/reports/period/{report.pk}/")
    page.check("input[name=decision][value=return]")
    page.fill("textarea[name=comment]", "请补充服务点的借阅情况。")
    page.click("button:has-text('提交审核结论')")
    page.wait_for_selector(".message-success:has-text('退回')")
    screenshot(page, "3-returned")

    sign_in(page, "suixian")
    page.goto(f"/reports/period/{report.pk}/")
    assert "请补充服务点的借阅情况" in page.locator(".message-warning").inner_text()
    page.fill("textarea[name=narrative]", "五月读书月：小林一中借阅 9 册次。")
    page.click("button:has-text('报送省馆')")
    page.wait_for_selector(".message-success")

    sign_in(page, "hubei")
    page.goto(f"/reports/period/{report.pk}/")
    page.check("input[name=decision][value=accept]")
    page.click("button:has-text('提交审核结论')")
    page.wait_for_selector(".status:has-text('已通过')")

    sign_in(page, "nlc")
    page.goto("/reports/period/")
    assert "随县图书馆" in page.locator("table").inner_text()
    page.fill("input[name=period]", PERIOD)
    with page.expect_download() as download:
        page.click("button:has-text('下载汇总 XLSX')")
    assert download.value.suggested_filename.endswith(".xlsx")
    screenshot(page, "4-nlc-rollup")
    report.refresh_from_db()
    assert report.status == "accepted" and report.figures["totals"]["loans"] == 20


@pytest.mark.parametrize("browser_page", [DESKTOP], indirect=True, ids=["desktop"])
def test_no_table_beside_a_chart_scrolls_sideways(
    browser_page, live_server, may, suixian, sui_central, screenshot
):
    from reports.demand import demand_record
    from reports.tests.helpers import at

    for query, clc in (("三体", "I"), ("量子力学", "O"), ("农业机械", "S")):
        demand_record(
            library=suixian,
            site=sui_central,
            query=query,
            outcome="none",
            clc_top=clc,
            at=at(f"{PERIOD}-06 10:00"),
            times=2,
        )
    page = browser_page
    sign_in(page, "suixian")
    for path in ("/reports/demand/", "/reports/preferences/", "/reports/holdings/", "/reports/"):
        page.goto(f"{path}?period={PERIOD}")
        boxes = page.locator(".report-chart-layout .report-side")
        assert boxes.count() > 0, path
        cut = page.evaluate(
            """() => [...document.querySelectorAll('.report-chart-layout .report-side')]
                .filter(box => [box, ...box.querySelectorAll('.table-scroll')]
                    .some(part => part.scrollWidth > part.clientWidth + 1))
                .map(box => box.querySelector('table').id)"""
        )
        assert cut == [], (path, cut)
    screenshot(page, "side-tables")
    # Axis labels: a long class name is shortened, a date never.
    ticks = """() => [...document.querySelectorAll('canvas[data-chart]')].flatMap(
        canvas => Chart.getChart(canvas).scales.x.ticks.map(tick => String(tick.label)))"""
    page.goto(f"/reports/preferences/?period={PERIOD}")
    page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length > 0")
    assert "I 文学" in page.evaluate(ticks)
    page.goto(f"/reports/?period={PERIOD}&grain=day")
    page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]').length > 0")
    dates = [label for label in page.evaluate(ticks) if label[:4].isdigit()]
    assert f"{PERIOD}-01" in dates and not [d for d in dates if d.endswith("…")], dates
