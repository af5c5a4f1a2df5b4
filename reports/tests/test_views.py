"""The report pages and exports for each actor: scope, bad input, export safety."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from circulation.models import Patron
from conftest import make_item
from reports.tests.helpers import lend, make_patron

pytestmark = pytest.mark.django_db
PAGES = ["volume", "readers", "holdings", "preferences", "transit", "compare"]


@pytest.fixture
def loans(suixian, sui_central, xiaolin_site, sui_consignment, zengdu, zengdu_central, zengdu_item):
    book = make_item(sui_consignment, sui_central, "NL20000001", title="=HYPERLINK(1)", clc="I247")
    other = make_item(sui_consignment, xiaolin_site, "NL20000002", clc="K207")
    reader = make_patron(suixian, sui_central, "SX1", name="张三")
    child = make_patron(suixian, xiaolin_site, "SX2", Patron.Category.CHILD, birth_year=2016)
    lend(book, reader, sui_central, "2026-05-03 10:00", returned="2026-05-09 10:00")
    lend(other, child, xiaolin_site, "2026-05-04 10:00")
    lend(
        zengdu_item, make_patron(zengdu, zengdu_central, "ZD1"), zengdu_central, "2026-05-05 09:00"
    )


@pytest.mark.parametrize("name", PAGES)
def test_every_report_page_answers_every_actor(
    name, loans, client_for, sui_librarian, xiaolin_volunteer, hubei_reviewer, nlc_lender
):
    url = f"/reports/{'' if name == 'volume' else name + '/'}?period=2026-05"
    for user in (sui_librarian, xiaolin_volunteer, hubei_reviewer, nlc_lender):
        response = client_for(user).get(url)
        assert response.status_code == 200, (user, name)
        assert "张三" not in response.content.decode()  # never a reader's identity


def test_the_class_by_site_report_counts_only_the_librarians_own_library(
    loans, client_for, sui_librarian, hubei_reviewer
):
    response = client_for(sui_librarian).get("/reports/?period=2026-05&rows=clc_top&cols=site")
    table = response.context["tables"][1]
    assert table.total[-1] == 2
    response = client_for(hubei_reviewer).get("/reports/?period=2026-05&rows=library")
    assert response.context["tables"][1].total[1] == 3


def test_a_volunteer_sees_only_the_loans_of_their_site(loans, client_for, xiaolin_volunteer):
    response = client_for(xiaolin_volunteer).get("/reports/?period=2026-05&rows=site")
    rows = response.context["tables"][1].rows
    assert [row[:2] for row in rows] == [["小林一中", 1]]


@pytest.mark.parametrize(
    "query, message",
    [
        ("period=2026-13", "月份 13 不存在"),
        ("period=last-month", "无法识别"),
        ("start=2026-05-10&end=2026-05-01", "结束日期不能早于开始日期"),
        ("start=not-a-date", "开始日期"),
        ("rows=nonsense", "行"),
        ("period=2026-05&grain=day&rows=clc_top", ""),
        ("period=2026-05&rows=site&cols=site", "行和列不能是同一个维度"),
        ("period=2026-05&grain=day&clc_top=I", "按日、按周"),
        ("period=2026-05&export=cross&format=pdf", "CSV 或 XLSX"),
    ],
)
def test_bad_filters_say_what_is_wrong_instead_of_failing(
    query, message, loans, client_for, sui_librarian
):
    response = client_for(sui_librarian).get(f"/reports/?{query}")
    if not message:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_csv_export_has_chinese_headers_a_bom_and_neutralised_formulas(
    loans, client_for, sui_librarian
):
    client = client_for(sui_librarian)
    response = client.get("/reports/holdings/idle/?format=csv&idle_days=30")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["条码号", "题名", "索书号"]
    assert ["NL20000001", "'=HYPERLINK(1)"] in [row[:2] for row in rows]


def test_the_xlsx_export_of_a_cross_table_opens_with_the_same_numbers(
    loans, client_for, sui_librarian
):
    url = "/reports/?period=2026-05&rows=clc_top&cols=site&export=cross&format=xlsx"
    response = client_for(sui_librarian).get(url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "中图法大类 \\ 站点"
    assert rows[-1][0] == "合计" and rows[-1][-1] == 2


def test_someone_without_a_role_gets_404(client_for, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert client_for(nobody).get("/reports/").status_code == 404


def test_the_default_period_is_this_month(loans, client_for, sui_librarian):
    response = client_for(sui_librarian).get("/reports/")
    today = date.today()
    assert response.context["params"].start == today.replace(day=1)
