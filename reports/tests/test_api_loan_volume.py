"""Loan volume through the API: the report page's figures for the same filters, in each actor's
scope, as JSON or CSV by content negotiation; and a county's IT script lending and returning
through the API, then pulling the month's loan volume."""

import csv
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from circulation.models import LoanRule, Patron
from conftest import make_item
from reports.tests.helpers import lend, make_patron
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def loans(suixian, sui_central, xiaolin_site, sui_consignment, zengdu, zengdu_central, zengdu_item):
    book = make_item(sui_consignment, sui_central, "NL20000001", title="=HYPERLINK(1)", clc="I247")
    other = make_item(sui_consignment, xiaolin_site, "NL20000002", clc="K207")
    third = make_item(sui_consignment, sui_central, "NL20000003", clc="I247.5")
    reader = make_patron(suixian, sui_central, "SX1", name="张三")
    child = make_patron(suixian, xiaolin_site, "SX2", Patron.Category.CHILD, birth_year=2016)
    lend(book, reader, sui_central, "2026-05-03 10:00", returned="2026-05-09 10:00")
    lend(other, child, xiaolin_site, "2026-05-04 10:00")
    lend(third, child, sui_central, "2026-04-30 23:30", returned="2026-05-02 09:00")
    lend(book, child, sui_central, "2026-05-20 10:00")
    lend(
        zengdu_item, make_patron(zengdu, zengdu_central, "ZD1"), zengdu_central, "2026-05-05 09:00"
    )


def page_cells(client, query) -> dict:
    """The volume page's cross table for `query`, as {(row label, column label): count}."""
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 200, response.context["errors"]
    table = response.context["tables"][1]
    headers = [column.label for column in table.columns]
    cells = {}
    for row in table.rows:
        if not table.heat:  # one dimension: label, count, share
            cells[(row[0],)] = row[1]
        else:
            for label, value in zip(headers[1:-1], row[1:-1], strict=True):
                if value:
                    cells[(row[0], label)] = value
    return cells


def api_cells(client, query) -> dict:
    body = client.get(f"/api/v1/reports/loan-volume/?{query}").json()
    return {tuple(row["labels"].values()): row["loans"] for row in body["rows"]}


@pytest.mark.parametrize(
    "page, api",
    [
        ("period=2026-05&rows=clc_top&cols=site", "period=2026-05&group_by=clc_top,site"),
        ("period=2026-05&rows=category&cols=age_band", "period=2026-05&group_by=category,age_band"),
        ("period=2026-Q2&rows=clc2&cols=site_kind", "period=2026-Q2&group_by=clc2,site_kind"),
        ("period=2026&rows=library", "period=2026&group_by=library"),
        (
            "period=2026-Q2&rows=consignment&clc_top=I",
            "period=2026-Q2&group_by=consignment&clc_top=I",
        ),
        (
            "start=2026-04-30&end=2026-05-04&rows=site",
            "start=2026-04-30&end=2026-05-04&group_by=site",
        ),
    ],
)
def test_the_api_gives_the_report_pages_figures_for_the_same_filters(
    page, api, loans, client_for, sui_librarian, hubei_reviewer, nlc_lender, xiaolin_volunteer
):
    for user in (sui_librarian, hubei_reviewer, nlc_lender, xiaolin_volunteer):
        expected = page_cells(client_for(user), page)
        assert api_cells(api_for(user), api) == expected, user
        assert sum(expected.values()) > 0 or user == xiaolin_volunteer


def test_the_time_series_matches_the_page_and_counts_each_scope(
    loans, client_for, sui_librarian, hubei_reviewer, xiaolin_volunteer
):
    page = client_for(sui_librarian).get("/reports/?period=2026&grain=month").context["tables"][0]
    by_month = {row[0]: row[1] for row in page.rows if row[1]}
    body = api_for(sui_librarian).get("/api/v1/reports/loan-volume/?period=2026").json()
    assert body["group_by"] == ["month"]
    assert {row["group"]["month"]: row["loans"] for row in body["rows"]} == by_month
    assert by_month == {"2026-04": 1, "2026-05": 3} and body["total"] == 4
    assert body["start"] == "2026-01-01" and body["end"] == "2026-12-31"
    province = api_for(hubei_reviewer).get("/api/v1/reports/loan-volume/?period=2026-05").json()
    assert province["total"] == 4  # both counties
    site = api_for(xiaolin_volunteer).get("/api/v1/reports/loan-volume/?period=2026-05").json()
    assert site["total"] == 1  # only the loans made at 小林一中


def test_rows_carry_codes_for_programs_and_labels_for_people(loans, hubei_reviewer, sui_librarian):
    body = (
        api_for(hubei_reviewer)
        .get("/api/v1/reports/loan-volume/?period=2026-05&group_by=library,day")
        .json()
    )
    assert body["rows"][0]["group"] == {"library": "SUIXIAN", "day": "2026-05-03"}
    assert body["rows"][0]["labels"] == {"library": "随县图书馆", "day": "2026-05-03"}
    body = (
        api_for(sui_librarian)
        .get("/api/v1/reports/loan-volume/?period=2026-05&group_by=site,consignment")
        .json()
    )
    groups = [row["group"] for row in body["rows"]]
    assert {"site": "SUIXIAN.xiaolin", "consignment": "NLC-2021-SX"} in groups


def test_filters_by_code_narrow_the_figures(loans, hubei_reviewer, sui_librarian):
    api = api_for(hubei_reviewer)
    url = "/api/v1/reports/loan-volume/?period=2026-05&group_by=library"
    assert api.get(url + "&library=ZENGDU").json()["total"] == 1
    assert api.get(url + "&site=SUIXIAN.xiaolin").json()["total"] == 1
    assert api.get(url + "&consignment=NLC-2021-SX").json()["total"] == 3
    assert api.get(url + "&category=child&site_kind=central").json()["total"] == 1
    assert api_for(sui_librarian).get(url + "&library=SUIXIAN").json()["total"] == 3


@pytest.mark.parametrize(
    "query, field",
    [
        ("group_by=nonsense", "group_by"),
        ("group_by=month,year", "group_by"),
        ("group_by=site,library,clc_top", "group_by"),
        ("group_by=site,site", "group_by"),
        ("group_by=day,clc_top", "non_field_errors"),
        ("period=2026-13", "non_field_errors"),
        ("start=not-a-date", "start"),
        ("start=2026-05-10&end=2026-05-01", "non_field_errors"),
        ("site=ZENGDU.central", "site"),
        ("library=ZENGDU", "library"),
        ("consignment=NLC-2021-ZD", "consignment"),
        ("category=alien", "category"),
    ],
)
def test_bad_questions_are_400_with_the_reason(query, field, loans, sui_librarian):
    response = api_for(sui_librarian).get(f"/api/v1/reports/loan-volume/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_csv_by_accept_header_or_format_parameter(loans, sui_librarian):
    api = api_for(sui_librarian)
    url = "/api/v1/reports/loan-volume/?period=2026-05&group_by=clc_top,site"
    json_rows = api.get(url).json()["rows"]
    for response in (api.get(url, HTTP_ACCEPT="text/csv"), api.get(url + "&format=csv")):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        assert response.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == ["clc_top", "clc_top_label", "site", "site_label", "loans"]
        assert [[r[0], r[2], int(r[4])] for r in rows[1:]] == [
            [r["group"]["clc_top"], r["group"]["site"], r["loans"]] for r in json_rows
        ]
    refused = api.get("/api/v1/reports/loan-volume/?group_by=x", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"


def test_someone_without_a_role_gets_404(django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert api_for(nobody).get("/api/v1/reports/loan-volume/").status_code == 404
    assert APIClient().get("/api/v1/reports/loan-volume/").status_code in (401, 403)


def test_an_it_script_lends_and_returns_then_pulls_the_months_loan_volume(
    sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=sui_central.library, category=category, loan_days=30, max_items=5
        )
    api = api_for(sui_librarian)
    books = [make_item(sui_consignment, xiaolin_site, f"NL7400000{n}") for n in range(3)]
    reader = api.post(
        "/api/v1/patrons/",
        {
            "card_number": "SX900001",
            "name": "脚本读者",
            "category": "adult",
            "home_site": "xiaolin",
        },
        format="json",
    )
    assert reader.status_code == 201
    for book in books:
        response = api.post(
            "/api/v1/circulation/checkout/",
            {"site": "SUIXIAN.xiaolin", "barcode": book.barcode, "card_number": "SX900001"},
            format="json",
        )
        assert response.status_code == 201
    returned = api.post(
        "/api/v1/circulation/return/",
        {"site": "SUIXIAN.central", "barcode": books[0].barcode},
        format="json",
    ).json()
    assert returned["action"] == "send_home" and returned["destination"] == "xiaolin"

    today = timezone.localdate()
    month = f"{today:%Y-%m}"
    body = api.get(
        f"/api/v1/reports/loan-volume/?period={month}&group_by=month,site&format=json"
    ).json()
    assert body["rows"] == [
        {
            "group": {"month": month, "site": "SUIXIAN.xiaolin"},
            "labels": {"month": month, "site": "小林一中"},
            "loans": 3,
        }
    ]
    call_command("check_integrity")
