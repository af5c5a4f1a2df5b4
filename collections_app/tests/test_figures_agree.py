"""Figures that must agree wherever they are shown: a consignment's receipt on its page, its scan
page and its sign-off page; a draft transfer's counts and its list; the dashboards' 停止流通 and
its legend. And staff names, which stay inside the library that employs them."""

import re
from datetime import date

import pytest
from django.urls import reverse

from circulation import dashboards
from collections_app.models import Consignment, Item
from collections_app.receiving_selectors import reconciliation
from collections_app.services.receiving import (
    consignment_import,
    consignment_scan,
    consignment_sign_off,
    consignment_start_receiving,
    receipt_counts,
)
from collections_app.services.transfers import transfer_create
from collections_app.tests.manifest_files import csv_bytes, rows
from conftest import make_item

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def signed_off(sui_librarian, nlc, suixian, sui_central):
    consignment = Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2024-SX", agreement_date=date(2024, 3, 1)
    )
    consignment_import(user=sui_librarian, consignment=consignment, data=csv_bytes(rows(82)))
    consignment_start_receiving(user=sui_librarian, consignment=consignment)
    for row in rows(70):
        consignment_scan(user=sui_librarian, consignment=consignment, barcode=row[0])
    consignment_sign_off(user=sui_librarian, consignment=consignment)
    consignment.refresh_from_db()
    return consignment


def stat(page: str, label: str) -> str:
    """The figure shown under `label` on a page (stat blocks and count lists alike)."""
    match = re.search(
        rf"{label}</(?:div|dt)>\s*<(?:div class=\"stat-value\"|dd[^>]*)>(?:<span[^>]*>)?([\d,]+)",
        page,
    )
    assert match, f"no figure labelled {label}"
    return match.group(1)


def test_after_sign_off_every_receipt_page_says_70_received_and_12_missing(
    client_for, sui_librarian, signed_off
):
    client = client_for(sui_librarian)
    scan_page = client.get(reverse("collections:consignment-scan", args=[signed_off.pk]))
    detail = client.get(reverse("collections:consignment-detail", args=[signed_off.pk]))
    sign_off = client.get(reverse("collections:consignment-sign-off", args=[signed_off.pk]))
    for response in (scan_page, detail, sign_off):
        assert response.context["counts"]["received"] == 70
        assert response.context["counts"]["missing"] == 12
    assert stat(scan_page.content.decode(), "已验收") == "70"
    assert stat(scan_page.content.decode(), "缺失") == "12"
    assert stat(detail.content.decode(), "已验收") == "70"
    assert stat(detail.content.decode(), "缺失") == "12"


def test_the_scan_answer_counts_are_the_pages_counts(sui_librarian, nlc, suixian, sui_central):
    consignment = Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2025-SX", agreement_date=date(2025, 3, 1)
    )
    consignment_import(user=sui_librarian, consignment=consignment, data=csv_bytes(rows(5)))
    consignment_start_receiving(user=sui_librarian, consignment=consignment)
    first = consignment_scan(user=sui_librarian, consignment=consignment, barcode=rows(1)[0][0])
    assert first.counts == reconciliation(consignment) == receipt_counts(consignment)
    assert first.counts["received"] + first.counts["missing"] == first.counts["expected"] == 5


@pytest.fixture
def draft(sui_librarian, sui_central, xiaolin_site):
    return transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )


def test_each_scanned_line_joins_the_list_the_counts_describe(
    client_for, sui_librarian, sui_consignment, sui_central, draft
):
    client = client_for(sui_librarian)
    url = reverse("collections:transfer-add-scan", args=[draft.pk])
    books = [make_item(sui_consignment, sui_central, f"NL6100000{n}") for n in range(4)]
    rows_shown = []
    for book in books:
        answer = client.post(url, {"barcode": book.barcode}, **JSON).json()
        rows_shown.append(answer["line"])
        assert answer["counts"]["total"] == len(rows_shown)
    assert all(book.barcode in row for book, row in zip(books, rows_shown, strict=True))
    page = client.get(reverse("collections:transfer-detail", args=[draft.pk])).content.decode()
    assert page.count("data-line=") == 4 and "调拨单中还没有图书" not in page


def test_an_empty_draft_says_so_and_counts_nothing(client_for, sui_librarian, draft):
    response = client_for(sui_librarian).get(
        reverse("collections:transfer-detail", args=[draft.pk])
    )
    assert response.context["counts"]["total"] == 0
    assert "调拨单中还没有图书" in response.content.decode()


def test_stopped_volumes_on_the_dashboards_exclude_expected_ones(
    nlc_lender, hubei_reviewer, sui_consignment, sui_central
):
    make_item(sui_consignment, sui_central, "NL62000001")
    make_item(sui_consignment, sui_central, "NL62000002", status=Item.Status.EXPECTED)
    make_item(sui_consignment, sui_central, "NL62000003", status=Item.Status.MISSING)
    row = dashboards.dashboard(nlc_lender)["consignments"]["rows"][0]
    assert (row["held"], row["available"], row["expected"], row["out_of_service"]) == (3, 1, 1, 1)
    county = dashboards.dashboard(hubei_reviewer)["libraries"]["rows"]
    sui = next(r for r in county if r["object"].pk == sui_consignment.library_id)
    assert (sui["expected"], sui["out_of_service"]) == (1, 1)


@pytest.mark.parametrize(
    ("actor", "shown"),
    [("sui_librarian", True), ("nlc_lender", False), ("hubei_reviewer", False)],
)
def test_staff_names_stay_inside_the_library(
    client_for, request, actor, shown, sui_librarian, signed_off, draft
):
    client = client_for(request.getfixturevalue(actor))
    pages = [
        reverse("collections:transfer-detail", args=[draft.pk]),
        reverse("collections:consignment-detail", args=[signed_off.pk]),
        reverse("collections:consignment-sign-off", args=[signed_off.pk]),
        reverse("collections:item-detail", args=[signed_off.items.order_by("pk")[0].barcode]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert ("随县馆员" in response.content.decode()) is shown, url
