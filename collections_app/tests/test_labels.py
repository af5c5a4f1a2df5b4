"""Barcode and spine labels: a PDF with Code 128, the call number, a short title, the NLC
marking, the Chinese font embedded; the grid follows the form."""

import io
import re

import pytest
from django.urls import reverse

from collections_app.labels import Layout, barcode_svg, labels_html, labels_pdf, split_call_number
from collections_app.models import Item
from conftest import make_item


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


def test_code_128_is_an_svg_of_bars():
    svg = barcode_svg("NL30000001")
    assert svg.startswith("data:image/svg+xml;base64,")


def test_the_label_sheet_carries_barcode_call_number_title_and_marking(shelf):
    html = labels_html(Item.objects.filter(pk=shelf[0].pk), layout=Layout(kind="both"))
    assert "NL30000000" in html
    assert "C912.82" in html
    assert "乡土中国（修订本）精装典藏…" in html
    assert html.count("国家图书馆共享借阅") == 2
    assert "grid-template-columns: repeat(3" in html


def test_the_pdf_embeds_the_chinese_font_and_fills_pages_by_the_grid(shelf):
    pdf = labels_pdf(
        Item.objects.filter(pk__in=[item.pk for item in shelf]).select_related("title"),
        layout=Layout(columns=2, rows=2, kind="both", skip=1),
        uncompressed_pdf=True,
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
