"""Barcode and spine labels: a PDF with Code 128, the call number, a short title, the NLC
marking, the Chinese font embedded; the grid follows the form."""

import io
import re

import pytest
from django.urls import reverse

from collections_app.labels import Layout, code128_modules, labels_pdf, split_call_number
from collections_app.models import Item
from conftest import make_item
from jobs.models import Job


@pytest.fixture
def shelf(sui_consignment, sui_central):
    return [
        make_item(
            sui_consignment, sui_central, f"NL3000000{n}", title="乡土中国（修订本）精装典藏纪念版"
        )
        for n in range(5)
    ]


def test_call_numbers_split_into_class_and_book_number():
    assert split_call_number("I247.57/12", "") == ("I247.57", "12")
    assert split_call_number("", "C912.82") == ("C912.82", "")


def test_code_128_starts_and_stops_with_its_guard_bars():
    modules = code128_modules("NL30000001")
    assert modules.startswith("11010") and modules.endswith("1100011101011")


def test_the_label_sheet_carries_barcode_call_number_title_and_marking(shelf):
    pdf = labels_pdf(
        Item.objects.filter(pk=shelf[0].pk), layout=Layout(kind="both"), compress=False
    )
    assert b"(NL30000000) Tj" in pdf
    assert b"(C912.82) Tj" in pdf
    # The Chinese text is drawn in glyph ids; its ToUnicode map names every character used.
    for char in "国家图书馆共享借阅乡土中国…":
        assert char.encode("utf-16-be").hex().upper().encode() in pdf
    assert pdf.count(b"/Type /Page ") == 1


def test_the_pdf_embeds_the_chinese_font_and_fills_pages_by_the_grid(shelf):
    pdf = labels_pdf(
        Item.objects.filter(pk__in=[item.pk for item in shelf]).select_related("title"),
        layout=Layout(columns=2, rows=2, kind="both", skip=1),
        compress=False,
    )
    assert pdf.startswith(b"%PDF")
    # 1 skipped + 10 labels on 4 per page: 3 pages.
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 3
    assert re.search(rb"/FontFile2|/FontFile3", pdf)
    assert b"WenQuanYi" in pdf or b"Label" in pdf


def test_the_label_view_returns_a_pdf_for_a_chosen_list(client_for, sui_librarian, shelf):
    response = client_for(sui_librarian).get(
        reverse("collections:consignment-labels", args=[shelf[0].consignment_id]),
        {
            "print": "1",
            "kind": "spine",
            "columns": 3,
            "rows": 8,
            "barcodes": "NL30000001\nNL30000002",
        },
    )
    assert response["Content-Type"] == "application/pdf"
    assert io.BytesIO(response.content).read(4) == b"%PDF"


def test_the_whole_consignment_prints_in_a_background_job_with_a_download(
    client_for, sui_librarian, shelf
):
    client = client_for(sui_librarian)
    response = client.post(
        reverse("collections:consignment-labels", args=[shelf[0].consignment_id]),
        {"kind": "both", "columns": 3, "rows": 8},
    )
    job = Job.objects.get(kind=Job.Kind.LABELS)
    assert response.url == reverse("jobs:job-detail", args=[job.pk])
    assert (job.status, job.done, job.total, job.percent) == ("succeeded", 5, 5, 100)
    page = client.get(response.url).content.decode()
    assert "已生成 5 册图书的标签" in page
    pdf = client.get(reverse("jobs:job-download", args=[job.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.content)) == 1


def test_a_label_job_is_seen_only_by_whoever_started_it(client_for, sui_librarian, suixian, shelf):
    from conftest import make_user

    client_for(sui_librarian).post(
        reverse("collections:consignment-labels", args=[shelf[0].consignment_id]),
        {"kind": "both", "columns": 3, "rows": 8},
    )
    job = Job.objects.get()
    colleague = make_user("sui_other", library=suixian, role="librarian")
    for name in ("job-detail", "job-status", "job-download"):
        assert client_for(colleague).get(reverse(f"jobs:{name}", args=[job.pk])).status_code == 404


def test_an_empty_selection_explains_itself(client_for, sui_librarian, shelf):
    response = client_for(sui_librarian).get(
        reverse("collections:consignment-labels", args=[shelf[0].consignment_id]),
        {"print": "1", "kind": "both", "columns": 3, "rows": 8, "barcodes": "NOPE0001"},
    )
    assert response.status_code == 200
    assert "没有符合条件的图书" in response.content.decode()


def test_another_county_cannot_print_our_labels(client_for, zengdu_librarian, shelf):
    response = client_for(zengdu_librarian).get(
        reverse("collections:consignment-labels", args=[shelf[0].consignment_id]),
        {"print": "1", "kind": "both", "columns": 3, "rows": 8},
    )
    assert response.status_code == 404
