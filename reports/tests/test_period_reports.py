"""The period report: prepare, submit (frozen), return, resubmit, accept, download; who may do
what; the scheduled snapshot command; the CLC level-2 mapping it reports by."""

import contextlib
import io
import re
import zlib

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from reports.clc import SecondLevel
from reports.models import PeriodReport
from reports.tests.helpers import lend, make_patron

pytestmark = pytest.mark.django_db


@pytest.fixture
def may_loans(suixian, sui_central, sui_item, xiaolin_item, xiaolin_site):
    reader = make_patron(suixian, sui_central, "R1")
    lend(sui_item, reader, sui_central, "2026-05-03 10:00", returned="2026-05-09 10:00")
    lend(xiaolin_item, reader, xiaolin_site, "2026-05-31 23:00", returned="2026-06-02 10:00")
    return reader


def embeds_chinese_font(pdf: bytes) -> bool:
    """The PDF's object streams, inflated, name the embedded WenQuanYi font file."""
    if not pdf.startswith(b"%PDF"):
        return False
    text = pdf
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):
            text += zlib.decompress(stream)
    return b"WenQuanYi" in text and b"/FontFile" in text


def prepare(client, consignment, period="2026-05"):
    response = client.post(
        "/reports/period/new/", {"period": period, "consignment": consignment.pk}
    )
    assert response.status_code == 302, response
    return PeriodReport.objects.get(consignment=consignment, period=period)


def test_the_period_report_goes_from_draft_to_accepted_with_frozen_figures(
    may_loans,
    client,
    sui_librarian,
    hubei_reviewer,
    nlc_lender,
    sui_consignment,
    sui_item,
    sui_central,
):
    client.force_login(sui_librarian)
    report = prepare(client, sui_consignment)
    assert report.status == "draft" and report.figures is None
    client.post(f"/reports/period/{report.pk}/save/", {"narrative": "五月工作", "action": "submit"})
    report.refresh_from_db()
    assert report.status == "submitted"
    assert report.figures["totals"]["loans"] == 2
    assert report.figures["totals"]["readers"] == 1

    # A later data fix (another loan backdated into May) does not change the submitted report.
    lend(sui_item, may_loans, sui_central, "2026-05-20 10:00", returned="2026-05-21 10:00")
    client.force_login(hubei_reviewer)
    page = client.get(f"/reports/period/{report.pk}/")
    assert page.context["figures"]["totals"]["loans"] == 2

    response = client.post(f"/reports/period/{report.pk}/review/", {"decision": "return"})
    report.refresh_from_db()
    assert report.status == "submitted"  # a return needs a comment
    client.post(
        f"/reports/period/{report.pk}/review/", {"decision": "return", "comment": "请补充说明"}
    )
    report.refresh_from_db()
    assert report.status == "returned" and report.review_comment == "请补充说明"

    client.force_login(nlc_lender)
    assert client.get(f"/reports/period/{report.pk}/").status_code == 404

    client.force_login(sui_librarian)
    client.post(f"/reports/period/{report.pk}/save/", {"narrative": "已补充", "action": "submit"})
    report.refresh_from_db()
    assert report.status == "submitted"
    assert report.figures["totals"]["loans"] == 3  # resubmitting freezes the figures anew

    client.force_login(hubei_reviewer)
    client.post(f"/reports/period/{report.pk}/review/", {"decision": "accept", "comment": ""})
    report.refresh_from_db()
    assert report.status == "accepted"
    assert [e.action for e in report.events.all()] == [
        "submitted",
        "returned",
        "submitted",
        "accepted",
    ]

    client.force_login(nlc_lender)
    response = client.get(f"/reports/period/{report.pk}/download.xlsx")
    sheet = load_workbook(io.BytesIO(response.content))["概况"]
    values = {row[0].value: row[1].value for row in sheet.iter_rows()}
    assert values["借阅册次"] == 3 and values["工作说明"] == "已补充"
    response = client.get("/reports/period/rollup.xlsx?period=2026-05")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("随县图书馆", "NLC-2021-SX", 3)
    pdf = client.get("/reports/period/rollup.pdf?period=2026-05").content
    assert embeds_chinese_font(pdf)


def test_only_the_county_librarian_prepares_and_only_the_provincial_reviewer_reviews(
    may_loans,
    client,
    sui_librarian,
    zengdu_librarian,
    hubei_reviewer,
    xiaolin_volunteer,
    nlc_lender,
    sui_consignment,
):
    client.force_login(sui_librarian)
    report = prepare(client, sui_consignment)
    for user in (hubei_reviewer, nlc_lender, xiaolin_volunteer):
        client.force_login(user)
        response = client.post(
            "/reports/period/new/", {"period": "2026-05", "consignment": sui_consignment.pk}
        )
        assert response.status_code == 403
    client.force_login(zengdu_librarian)
    assert client.get(f"/reports/period/{report.pk}/").status_code == 404
    assert client.post(f"/reports/period/{report.pk}/save/", {"narrative": "x"}).status_code == 404
    client.force_login(hubei_reviewer)
    assert client.get(f"/reports/period/{report.pk}/").status_code == 404  # drafts stay home
    client.force_login(xiaolin_volunteer)
    assert client.get(f"/reports/period/{report.pk}/").status_code == 404

    client.force_login(sui_librarian)
    client.post(f"/reports/period/{report.pk}/save/", {"narrative": "", "action": "submit"})
    client.force_login(hubei_reviewer)
    response = client.post(f"/reports/period/{report.pk}/save/", {"narrative": "改"})
    assert response.status_code == 403
    client.force_login(sui_librarian)
    client.post(f"/reports/period/{report.pk}/review/", {"decision": "accept"})
    report.refresh_from_db()
    assert report.status == "submitted"


def test_a_period_that_has_not_ended_cannot_be_submitted(client, sui_librarian, sui_consignment):
    client.force_login(sui_librarian)
    report = prepare(client, sui_consignment, period="2099-01")
    response = client.post(
        f"/reports/period/{report.pk}/save/", {"narrative": "", "action": "submit"}, follow=True
    )
    assert "期间尚未结束" in response.content.decode()
    report.refresh_from_db()
    assert report.status == "draft"


def test_the_period_report_downloads_as_a_pdf_with_the_chinese_font_embedded(
    may_loans, client, sui_librarian, sui_consignment
):
    client.force_login(sui_librarian)
    report = prepare(client, sui_consignment)
    response = client.get(f"/reports/period/{report.pk}/download.pdf")
    assert embeds_chinese_font(response.content)


def test_snapshot_reports_prepares_one_draft_per_county_consignment_and_only_once(
    sui_consignment, zengdu_consignment
):
    out = io.StringIO()
    call_command("snapshot_reports", "--period", "2026-06", "--dry-run", stdout=out)
    assert "新建报表草稿 2 份" in out.getvalue() and not PeriodReport.objects.exists()
    call_command("snapshot_reports", "--period", "2026-06", stdout=out)
    call_command("snapshot_reports", "--period", "2026-06", stdout=out)
    assert PeriodReport.objects.filter(status="draft", period="2026-06").count() == 2
    with pytest.raises(CommandError, match="无法识别"):
        call_command("snapshot_reports", "--period", "June")


def test_a_class_number_reports_under_its_longest_second_level_class():
    classes = SecondLevel.from_database()
    assert classes.of("I247.57") == "I2"
    assert classes.of("F491") == "F49"
    assert classes.of("TP311.1") == "TP"
    assert classes.of("D35") == "D33/37"
    assert classes.of("I561.45") == "I3/7"
    assert classes.of("K825.6") == "K81"
    assert classes.of("G623.2") == "G4"
    assert classes.of("") == ""


def test_the_length_limits_hold_at_the_service_whoever_calls_it(
    client, sui_librarian, hubei_reviewer, sui_consignment
):
    from collections_app.errors import Refused
    from reports.services import (
        COMMENT_MAX_LENGTH,
        NARRATIVE_MAX_LENGTH,
        period_report_review,
        period_report_save,
        period_report_submit,
    )

    client.force_login(sui_librarian)
    report = prepare(client, sui_consignment)
    too_long = "县" * (NARRATIVE_MAX_LENGTH + 1)
    with pytest.raises(Refused, match=f"最多 {NARRATIVE_MAX_LENGTH} 字"):
        period_report_save(user=sui_librarian, report=report, narrative=too_long)
    with pytest.raises(Refused, match=f"现在是 {NARRATIVE_MAX_LENGTH + 1} 字"):
        period_report_submit(user=sui_librarian, report=report, narrative=too_long)
    report.refresh_from_db()
    assert (report.status, report.narrative) == ("draft", "")
    report = period_report_submit(user=sui_librarian, report=report, narrative="县" * 4000)
    comment = "改" * (COMMENT_MAX_LENGTH + 1)
    with pytest.raises(Refused, match=f"审核意见最多 {COMMENT_MAX_LENGTH} 字"):
        period_report_review(user=hubei_reviewer, report=report, accept=False, comment=comment)
    report.refresh_from_db()
    assert (report.status, report.review_comment) == ("submitted", "")


def test_a_frozen_report_reads_in_the_language_of_whoever_opens_it(
    client, sui_librarian, sui_consignment, may_loans
):
    from django.utils import translation

    from reports.services import period_report_submit

    client.force_login(sui_librarian)
    report = prepare(client, sui_consignment)
    with translation.override("en"):  # whoever submits, the report keeps both languages
        report = period_report_submit(user=sui_librarian, report=report, narrative="")
    assert set(report.figures["tables_by_language"]) == {"zh-hans", "en"}
    assert report.figures["tables"][0]["title"].startswith("借阅册次")
    sui_librarian.language = "en"
    sui_librarian.save()
    english = client.get(f"/reports/period/{report.pk}/").content.decode()
    assert "Loans" in english and "借阅册次" not in english
    sui_librarian.language = "zh-hans"
    sui_librarian.save()
    chinese = client.get(f"/reports/period/{report.pk}/").content.decode()
    assert "借阅册次" in chinese
