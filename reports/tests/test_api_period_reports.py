"""Period reports through the API: the submitted and accepted reports each actor may see, each
as JSON with its frozen figures, as the page's XLSX and as the page job's PDF — so that the NLC's
systems pull every accepted report of its libraries without anyone emailing a spreadsheet."""

import io
import uuid
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from openpyxl import load_workbook
from rest_framework.test import APIClient

from conftest import at_once
from jobs.models import Job
from jobs.services import run_job
from reports.jobs import period_report_pdf_job
from reports.models import PeriodReport
from reports.periods import parse_period
from reports.services import period_report_prepare, period_report_review, period_report_submit
from reports.tests.helpers import lend, make_patron
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def report(librarian, consignment, period, *, reviewer=None, accept=None):
    made = period_report_prepare(
        user=librarian,
        library=consignment.library,
        consignment=consignment,
        period=parse_period(period),
    )
    if accept is not None or reviewer is not None:
        made = period_report_submit(user=librarian, report=made, narrative=f"{period} 工作")
    if accept is not None:
        made = period_report_review(user=reviewer, report=made, accept=accept, comment="好")
    return made


@pytest.fixture
def reports(
    suixian,
    sui_central,
    sui_item,
    sui_consignment,
    zengdu_consignment,
    zengdu_item,
    zengdu_central,
    sui_librarian,
    zengdu_librarian,
    hubei_reviewer,
):
    reader = make_patron(suixian, sui_central, "R1")
    lend(sui_item, reader, sui_central, "2026-05-03 10:00", returned="2026-05-09 10:00")
    lend(sui_item, reader, sui_central, "2026-05-12 10:00", returned="2026-05-19 10:00")
    lend(zengdu_item, make_patron(zengdu_item.library, zengdu_central, "Z1"), zengdu_central,
         "2026-05-05 10:00", returned="2026-05-20 10:00")  # fmt: skip
    return {
        "sui_may": report(
            sui_librarian, sui_consignment, "2026-05", reviewer=hubei_reviewer, accept=True
        ),  # fmt: skip
        "sui_april": report(sui_librarian, sui_consignment, "2026-04", reviewer=hubei_reviewer),
        "sui_march": report(sui_librarian, sui_consignment, "2026-03"),  # a draft
        "zengdu_may": report(
            zengdu_librarian, zengdu_consignment, "2026-05", reviewer=hubei_reviewer, accept=True
        ),  # fmt: skip
    }


def listed(user, query=""):
    body = api_for(user).get(f"/api/v1/period-reports/{query}").json()
    return {row["id"] for row in body["results"]}


def test_each_actor_lists_the_submitted_and_accepted_reports_it_may_see(
    reports, sui_librarian, zengdu_librarian, hubei_reviewer, nlc_lender, xiaolin_volunteer
):
    r = {name: made.pk for name, made in reports.items()}
    assert reports["sui_april"].status == "submitted"
    assert listed(sui_librarian) == {r["sui_may"], r["sui_april"]}  # its own, no draft
    assert listed(zengdu_librarian) == {r["zengdu_may"]}
    assert listed(hubei_reviewer) == {r["sui_may"], r["sui_april"], r["zengdu_may"]}
    # The NLC pulls every accepted report of the libraries it lends to, and nothing else.
    assert listed(nlc_lender) == {r["sui_may"], r["zengdu_may"]}
    assert listed(xiaolin_volunteer) == set()
    assert listed(hubei_reviewer, "?status=accepted&library__code=SUIXIAN") == {r["sui_may"]}
    assert listed(nlc_lender, "?period=2026-05&kind=month") == {r["sui_may"], r["zengdu_may"]}


def test_a_report_as_json_carries_its_frozen_figures(reports, nlc_lender, sui_item, sui_central):
    may = reports["sui_may"]
    # A later data fix does not change what was submitted.
    lend(
        sui_item, make_patron(sui_item.library, sui_central, "R9"), sui_central, "2026-05-25 10:00"
    )
    response = api_for(nlc_lender).get(f"/api/v1/period-reports/{may.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["library"] == "SUIXIAN" and body["consignment"] == "NLC-2021-SX"
    assert body["status"] == "accepted" and body["period"] == "2026-05"
    assert body["narrative"] == "2026-05 工作"
    totals = {total["key"]: total["value"] for total in body["totals"]}
    assert totals["loans"] == may.figures["totals"]["loans"] == 2
    assert [t["key"] for t in body["tables"]] == [t["key"] for t in may.figures["tables"]]
    assert body["xlsx"].endswith(f"/api/v1/period-reports/{may.pk}/xlsx/")
    assert "R1" not in response.content.decode()  # never a reader's card


def test_reports_out_of_reach_are_404(
    reports, sui_librarian, zengdu_librarian, nlc_lender, xiaolin_volunteer
):
    for user, name in (
        (zengdu_librarian, "sui_may"),
        (nlc_lender, "sui_april"),  # submitted, not yet accepted
        (sui_librarian, "sui_march"),  # a draft is not reported yet
        (xiaolin_volunteer, "sui_may"),
    ):
        api = api_for(user)
        pk = reports[name].pk
        for suffix in ("", "xlsx/", "pdf/"):
            assert api.get(f"/api/v1/period-reports/{pk}/{suffix}").status_code == 404, (user, name)


def test_the_xlsx_is_the_pages_export(reports, hubei_reviewer, client_for):
    may = reports["sui_may"]
    response = api_for(hubei_reviewer).get(f"/api/v1/period-reports/{may.pk}/xlsx/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}
    assert summary["借阅册次"] == 2 and summary["期间"] == "2026-05"
    page = client_for(hubei_reviewer).get(f"/reports/period/{may.pk}/download.xlsx")
    assert book.sheetnames == load_workbook(io.BytesIO(page.content)).sheetnames


def test_the_pdf_comes_at_once_when_its_job_has_run(reports, nlc_lender):
    may = reports["sui_may"]
    response = api_for(nlc_lender).get(f"/api/v1/period-reports/{may.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_pdf_still_being_laid_out_answers_202_with_where_to_ask_again(
    reports, nlc_lender, sui_librarian, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    may = reports["sui_may"]
    api = api_for(nlc_lender)
    response = api.get(f"/api/v1/period-reports/{may.pk}/pdf/")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["url"] == response["Location"]
    assert body["url"].endswith(f"/api/v1/period-reports/{may.pk}/pdf/?job={body['job']}")
    assert body["status_url"].endswith(f"/api/v1/jobs/{body['job']}/")
    assert api.get(body["url"]).status_code == 202  # still queued: no second job
    assert Job.objects.filter(kind=Job.Kind.PERIOD_REPORT_PDF).count() == 1
    # Someone else cannot collect this caller's job.
    other = api_for(sui_librarian).get(body["url"])
    assert other.status_code == 404
    assert api.get(f"/api/v1/period-reports/{may.pk}/pdf/?job=not-a-uuid").status_code == 404

    run_job.call(body["job"])  # the worker's turn
    done = api.get(body["url"])
    assert done.status_code == 200 and done.content.startswith(b"%PDF")


def test_a_failed_pdf_job_is_409_with_the_reason(reports, nlc_lender, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    may = reports["sui_may"]
    api = api_for(nlc_lender)
    body = api.get(f"/api/v1/period-reports/{may.pk}/pdf/").json()
    Job.objects.filter(pk=body["job"]).update(status=Job.Status.FAILED, error="排版失败")
    response = api.get(body["url"])
    assert response.status_code == 409
    assert response.json() == {"code": "job_failed", "message": "排版失败"}


def pdf_jobs():
    return Job.objects.filter(kind=Job.Kind.PERIOD_REPORT_PDF)


def test_polling_the_bare_pdf_address_reuses_the_callers_job_until_the_report_changes(
    reports, nlc_lender, hubei_reviewer, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    april = reports["sui_april"]  # submitted, not yet reviewed
    url = f"/api/v1/period-reports/{april.pk}/pdf/"
    api = api_for(hubei_reviewer)
    first = api.get(url).json()["job"]
    assert [api.get(url).json()["job"] for _ in range(3)] == [first] * 3
    assert pdf_jobs().count() == 1
    # Another language or another caller is another file, another job.
    english = api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["job"]
    assert english != first and api.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["job"] == english
    assert api_for(nlc_lender).get(f"/api/v1/period-reports/{reports['sui_may'].pk}/pdf/")
    assert pdf_jobs().count() == 3
    # A failed job is not handed out again: the next bare request tries anew.
    Job.objects.filter(pk=first).update(status=Job.Status.FAILED, error="排版失败")
    second = api.get(url).json()["job"]
    assert second != first
    # A done job is, while its file is kept.
    run_job.call(second)
    assert api.get(url).status_code == 200 and pdf_jobs().count() == 4
    # Reviewed, the report's PDF says so: a new layout.
    period_report_review(user=hubei_reviewer, report=april, accept=True, comment="好")
    assert api.get(url).json()["job"] not in (first, second, english)


def test_the_pages_pdf_download_reuses_the_same_job_as_the_api(reports, hubei_reviewer, client_for):
    may = reports["sui_may"]
    page = client_for(hubei_reviewer)
    assert page.get(f"/reports/period/{may.pk}/download.pdf").content.startswith(b"%PDF")
    assert page.get(f"/reports/period/{may.pk}/download.pdf").status_code == 200
    api = api_for(hubei_reviewer).get(f"/api/v1/period-reports/{may.pk}/pdf/")
    assert api.status_code == 200 and api.content.startswith(b"%PDF")
    assert pdf_jobs().count() == 1


def test_the_files_come_to_a_client_that_asks_for_their_own_media_type(reports, nlc_lender):
    may = reports["sui_may"]
    api = api_for(nlc_lender)
    pdf = api.get(f"/api/v1/period-reports/{may.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    xlsx = api.get(f"/api/v1/period-reports/{may.pk}/xlsx/", HTTP_ACCEPT=xlsx_type)
    assert xlsx.status_code == 200 and xlsx["Content-Type"] == xlsx_type
    # Their errors are still JSON, and the report itself is not a PDF.
    missing = api.get("/api/v1/period-reports/999999/pdf/", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert (
        api.get(f"/api/v1/period-reports/{may.pk}/", HTTP_ACCEPT="application/pdf").status_code
        == 406
    )


def test_a_pdf_being_laid_out_is_json_for_a_client_that_asks_for_the_pdf(
    reports, nlc_lender, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    may = reports["sui_may"]
    response = api_for(nlc_lender).get(
        f"/api/v1/period-reports/{may.pk}/pdf/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 202 and response["Content-Type"] == "application/json"
    Job.objects.filter(pk=response.json()["job"]).update(status=Job.Status.FAILED, error="坏")
    failed = api_for(nlc_lender).get(response["Location"], HTTP_ACCEPT="application/pdf")
    assert failed.status_code == 409 and failed.json()["code"] == "job_failed"


def test_reports_leave_the_data_consistent(reports):
    assert PeriodReport.objects.filter(starts_on=date(2026, 5, 1)).count() == 2
    call_command("check_integrity")


ROUNDS = 10  # four requests released together each round


@pytest.mark.django_db(transaction=True)
def test_requests_for_the_same_pdf_at_the_same_moment_share_one_job(reports, nlc_lender, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    may = reports["sui_may"]

    def ask():
        return period_report_pdf_job(report=may, user=nlc_lender, language="zh-hans").pk

    for _ in range(ROUNDS):
        outcomes = at_once(ask, ask, ask, ask)
        assert all(isinstance(outcome, uuid.UUID) for outcome in outcomes), outcomes
        assert len(set(outcomes)) == 1 and pdf_jobs().count() == 1
        pdf_jobs().delete()
