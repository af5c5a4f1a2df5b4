"""The period report as a county librarian meets it: the form offers the consignment in
service, a narrative over the limit is refused with the text kept (a browser used to cut it at
4,000 characters and the page said it was saved), and a report the province sent back is
announced on the county's home page."""

import re
from datetime import date

import pytest

from collections_app.models import Consignment
from reports.models import PeriodReport
from reports.services import NARRATIVE_MAX_LENGTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced(nlc, suixian):
    # Newer than the one in service, but its volumes have not arrived.
    return Consignment.objects.create(
        library=suixian,
        lender=nlc,
        reference="NLC-2026-SX",
        agreement_date=date(2026, 10, 1),
        expected_count=500,
        status=Consignment.Status.ANNOUNCED,
    )


def test_the_prepare_form_offers_the_consignment_in_service(
    client_for, sui_librarian, sui_consignment, announced
):
    html = client_for(sui_librarian).get("/reports/period/").content.decode()
    select = re.search(r'<select name="consignment"[^>]*>(.*?)</select>', html, re.S).group(1)
    chosen = re.findall(r'<option value="(\d+)"[^>]*\bselected\b', select)
    assert chosen == [str(sui_consignment.pk)]


def draft(library, consignment, **fields):
    return PeriodReport.objects.create(
        library=library,
        consignment=consignment,
        kind=PeriodReport.Kind.MONTH,
        period="2026-05",
        starts_on=date(2026, 5, 1),
        ends_on=date(2026, 5, 31),
        **fields,
    )


def test_a_narrative_over_the_limit_is_refused_and_kept_on_the_page(
    client_for, sui_librarian, suixian, sui_consignment
):
    report = draft(suixian, sui_consignment, narrative="旧的说明")
    client = client_for(sui_librarian)
    page = client.get(f"/reports/period/{report.pk}/").content.decode()
    assert "maxlength" not in re.search(r"<textarea[^>]*>", page).group(0)

    long_text = "县" * 5000
    response = client.post(
        f"/reports/period/{report.pk}/save/", {"narrative": long_text, "action": "save"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f"工作说明最多 {NARRATIVE_MAX_LENGTH} 字，现在是 5000 字" in html
    assert "已保存" not in html
    assert long_text in html  # the text as typed, to shorten
    report.refresh_from_db()
    assert report.narrative == "旧的说明"

    limit_text = "县" * NARRATIVE_MAX_LENGTH
    response = client.post(
        f"/reports/period/{report.pk}/save/", {"narrative": limit_text, "action": "save"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.narrative == limit_text


def test_a_returned_report_is_announced_on_the_county_librarians_home_page(
    client_for, sui_librarian, xiaolin_volunteer, suixian, sui_consignment, zengdu_librarian
):
    report = draft(
        suixian,
        sui_consignment,
        status=PeriodReport.Status.RETURNED,
        review_comment="请补充流动书箱的说明",
    )
    html = client_for(sui_librarian).get("/").content.decode()
    assert "省馆退回了 1 份共享借阅工作报表" in html
    assert f'href="/reports/period/{report.pk}/"' in html
    assert "请补充流动书箱的说明" in html

    # Not for those who cannot resubmit it, nor for another county.
    for user in (xiaolin_volunteer, zengdu_librarian):
        assert "省馆退回了" not in client_for(user).get("/").content.decode()

    report.status = PeriodReport.Status.DRAFT
    report.save()
    assert "省馆退回了" not in client_for(sui_librarian).get("/").content.decode()
