"""The 读者需求 report: its figures against plain counts of the rows, each actor's scope, the
holds that waited longest, its exports, and the page in both languages."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db.models import Sum
from openpyxl import load_workbook

from circulation.models import Hold
from conftest import make_item
from reports.models import DemandSearch
from reports.tests.helpers import at, count_search, make_patron

pytestmark = pytest.mark.django_db
URL = "/reports/demand/"


count = count_search


@pytest.fixture
def demand(suixian, sui_central, xiaolin_site, zengdu, zengdu_central):
    count(suixian, "三体", when="2026-05-03 10:00", site=xiaolin_site, clc="I", times=3)
    count(suixian, "三体", when="2026-05-20 10:00", site=sui_central, clc="I")
    count(suixian, "三体", when="2026-06-01 00:30", site=xiaolin_site, clc="I")
    count(suixian, "量子力学", when="2026-05-04 10:00", site=sui_central, clc="O", times=2)
    count(suixian, "活着", when="2026-05-05 10:00", site=xiaolin_site, outcome="queued")
    count(suixian, "不存在的书", when="2026-05-06 10:00")  # no site, no class
    count(zengdu, "曾都秘籍", when="2026-05-06 10:00", site=zengdu_central, times=7)


def table(response, key):
    return next(t for t in response.context["tables"] if t.key == key)


def test_the_figures_are_the_rows_counted_plainly(demand, client_for, sui_librarian, suixian):
    response = client_for(sui_librarian).get(URL, {"period": "2026-05"})
    assert response.status_code == 200
    queries = table(response, "demand-queries")
    plain = DemandSearch.objects.filter(library=suixian, month=date(2026, 5, 1))
    assert queries.total[-1] == plain.aggregate(n=Sum("searches"))["n"] == 8
    by_query = {row[0]: row[2:] for row in queries.rows}
    for query, (none, queued, total) in by_query.items():
        of_query = plain.filter(query=query)
        assert none == (of_query.filter(outcome="none").aggregate(n=Sum("searches"))["n"] or 0)
        assert queued == (of_query.filter(outcome="queued").aggregate(n=Sum("searches"))["n"] or 0)
        assert total == of_query.aggregate(n=Sum("searches"))["n"]
    assert by_query["三体"] == [4, 0, 4]  # the 1 June search is June's
    assert by_query["活着"] == [0, 1, 1]
    assert list(by_query)[0] == "三体"  # most sought first
    classes = {row[0]: row[3] for row in table(response, "demand-classes").rows}
    assert classes == {"I 文学": 4, "O 数理科学和化学": 2, "未分类": 2}
    sites = {row[0]: row[1:] for row in table(response, "demand-sites").rows}
    assert sites["小林一中"] == [4, 4] and sites["未选站点"] == [1, 1]
    year = client_for(sui_librarian).get(URL, {"period": "2026"})
    assert table(year, "demand-queries").total[-1] == 9


def test_another_countys_searches_are_invisible(
    demand, client_for, sui_librarian, zengdu_librarian, xiaolin_volunteer
):
    html = client_for(sui_librarian).get(URL, {"period": "2026"}).content.decode()
    assert "三体" in html and "曾都秘籍" not in html
    html = client_for(zengdu_librarian).get(URL, {"period": "2026"}).content.decode()
    assert "曾都秘籍" in html and "三体" not in html
    # A service point's volunteer sees the searches counted at their site only.
    response = client_for(xiaolin_volunteer).get(URL, {"period": "2026"})
    assert {row[0] for row in table(response, "demand-queries").rows} == {"三体", "活着"}


def test_the_province_and_the_lender_see_their_counties(
    demand, client_for, hubei_reviewer, nlc_lender, sui_consignment, zengdu_consignment
):
    for user in (hubei_reviewer, nlc_lender):
        response = client_for(user).get(URL, {"period": "2026"})
        assert table(response, "demand-queries").total[-1] == 16, user


def test_the_holds_that_waited_longest_come_first(
    client_for, sui_librarian, suixian, sui_central, xiaolin_site, sui_consignment
):
    reader = make_patron(suixian, xiaolin_site, "SX1", name="张三")
    other = make_patron(suixian, xiaolin_site, "SX2")
    quick = make_item(sui_consignment, sui_central, "NL1", title="很快到手").title
    slow = make_item(sui_consignment, sui_central, "NL2", title="久等之书").title
    waiting = make_item(sui_consignment, sui_central, "NL3", title="还在等").title

    def hold(patron, title, placed, **fields):
        return Hold.objects.create(
            library=suixian,
            patron=patron,
            title=title,
            pickup_site=xiaolin_site,
            placed_at=at(placed),
            expires_at=at(placed) + timedelta(days=90),
            **fields,
        )

    hold(reader, quick, "2026-05-01 10:00", status="fulfilled", trapped_at=at("2026-05-03 10:00"),
         closed_at=at("2026-05-04 10:00"))  # fmt: skip
    hold(reader, slow, "2026-05-01 10:00", status="cancelled", closed_at=at("2026-05-21 10:00"))
    hold(other, slow, "2026-05-02 10:00", status="expired", closed_at=at("2026-05-12 10:00"))
    hold(reader, waiting, "2026-05-30 10:00")
    hold(reader, quick, "2026-04-01 10:00", status="cancelled", closed_at=at("2026-04-02 10:00"))
    response = client_for(sui_librarian).get(URL, {"period": "2026-05"})
    rows = table(response, "holds-waited").rows
    assert rows[0][0] == "还在等" and rows[0][3] == 1 and rows[0][4] >= 180  # waiting till now
    assert rows[1] == ["久等之书", "小林一中", 2, 0, 20, 15.0]
    assert rows[2] == ["很快到手", "小林一中", 1, 0, 2, 2.0]  # April's hold is not May's
    assert "张三" not in response.content.decode()


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_each_table_exports_as_csv_and_xlsx(demand, client_for, sui_librarian):
    client = client_for(sui_librarian)
    response = client.get(URL, {"period": "2026-05", "export": "demand-queries", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert rows[0][0] == "检索词" and ["三体", "I 文学", "4", "0", "4"] in rows
    response = client.get(URL, {"period": "2026-05", "export": "demand-classes", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(body(response))).active
    assert sheet.cell(1, 1).value == "中图法大类"


def test_the_page_speaks_english(demand, client_for, sui_librarian):
    client = client_for(sui_librarian)
    html = client.get(URL, {"period": "2026-05"}).content.decode()
    assert "读者需求" in html and "等待最久的预约" in html and "读者偏好报表" in html
    sui_librarian.language = "en"
    sui_librarian.save(update_fields=["language"])
    html = client_for(sui_librarian).get(URL, {"period": "2026-05"}).content.decode()
    assert "Reader demand" in html and "Holds that waited longest" in html
    assert "等待最久的预约" not in html


def test_the_demand_tab_is_among_the_reports(client_for, sui_librarian):
    html = client_for(sui_librarian).get("/reports/").content.decode()
    assert 'href="/reports/demand/"' in html


def test_no_staff_account_no_report(client, demand):
    response = client.get(URL)
    assert response.status_code == 302  # to sign in


def test_the_period_report_freezes_the_demand_section(
    demand, client, sui_librarian, sui_consignment, suixian, sui_central
):
    from reports.tests.test_period_reports import prepare

    client.force_login(sui_librarian)
    report = prepare(client, sui_consignment)
    client.post(f"/reports/period/{report.pk}/save/", {"narrative": "", "action": "submit"})
    report.refresh_from_db()
    assert report.status == "submitted"
    frozen = {t["key"]: t for t in report.figures["tables"]}
    queries = frozen["period-demand-queries"]
    assert queries["rows"][0] == ["三体", "I 文学", 4, 0, 4]
    assert queries["total"][-1] == 8
    assert report.figures["totals"]["unmet_searches"] == 8
    assert "period-demand-classes" in frozen and "period-holds-waited" in frozen
    # Searches counted after submitting leave the frozen figures as they were.
    count(suixian, "三体", when="2026-05-10 10:00", site=sui_central, times=5)
    page = client.get(f"/reports/period/{report.pk}/").content.decode()
    assert "未满足的读者检索（全馆）" in page and "读者检索而未找到的" in page
    report.refresh_from_db()
    assert report.figures["totals"]["unmet_searches"] == 8
    workbook = load_workbook(
        io.BytesIO(client.get(f"/reports/period/{report.pk}/download.xlsx").content)
    )
    assert "读者检索而未找到的（按检索次数）" in workbook.sheetnames
    summary = list(workbook["概况"].iter_rows(values_only=True))
    assert ("未满足的读者检索（全馆）", 8) in summary
