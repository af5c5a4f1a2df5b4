"""The receiving pages, for the three kinds of actor: the county librarian does everything, site
staff scan only where the central library is one of their sites, lender and province read only
(403 on POST), and everyone else gets 404."""

import io
import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from collections_app.models import Consignment, Item, ReceiptEntry
from collections_app.services.receiving import (
    consignment_import,
    consignment_scan,
    consignment_start_receiving,
)
from collections_app.tests.manifest_files import csv_bytes, rows
from conftest import make_user


@pytest.fixture
def announced(nlc, suixian, sui_central):
    return Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2024-SX", agreement_date=date(2024, 3, 1)
    )


@pytest.fixture
def receiving(sui_librarian, announced):
    consignment_import(user=sui_librarian, consignment=announced, data=csv_bytes(rows(10)))
    return consignment_start_receiving(user=sui_librarian, consignment=announced)


@pytest.fixture
def central_volunteer(suixian, sui_central):
    return make_user("central", suixian, User.Role.SITE_STAFF, sites=[sui_central])


def url(name, consignment, *args):
    return reverse(f"collections:consignment-{name}", args=[consignment.pk, *args])


def scan(client, consignment, barcode, **extra):
    return client.post(
        url("scan", consignment),
        {"barcode": barcode, **extra},
        HTTP_ACCEPT="application/json",
    )


@pytest.mark.parametrize(
    "actor", ["sui_librarian", "xiaolin_volunteer", "hubei_reviewer", "nlc_lender", "superuser"]
)
def test_the_consignment_pages_render_for_every_role_in_scope(
    client_for, request, actor, receiving
):
    client = client_for(request.getfixturevalue(actor))
    assert client.get(reverse("collections:consignment-list")).status_code == 200
    # Pages that list the consignment's volumes are for those who receive at the central
    # library; a service point's volunteer does not see what waits there.
    lists_volumes = {"scan", "sign-off"}
    # The import form is only for those who may import (the product's 403 page for others).
    may_import = actor in ("sui_librarian", "superuser")
    for name in ("detail", "scan", "sign-off", "import", "labels"):
        expected = 404 if actor == "xiaolin_volunteer" and name in lists_volumes else 200
        if name == "import" and not may_import:
            expected = 403
        assert client.get(url(name, receiving)).status_code == expected, name


def test_another_county_gets_404_on_every_page(client_for, zengdu_librarian, receiving):
    client = client_for(zengdu_librarian)
    for name in ("detail", "scan", "sign-off", "import", "labels"):
        assert client.get(url(name, receiving)).status_code == 404
    assert scan(client, receiving, "NL2100000001").status_code == 404


@pytest.mark.parametrize("actor", ["hubei_reviewer", "nlc_lender", "xiaolin_volunteer"])
def test_readers_and_staff_of_other_sites_are_refused_every_write(
    client_for, request, actor, receiving
):
    client = client_for(request.getfixturevalue(actor))
    upload = SimpleUploadedFile("m.csv", csv_bytes(rows(2, start=50)))
    assert client.post(url("import", receiving), {"file": upload}).status_code == 403
    # The volunteer of another site does not even see the scan and sign-off pages (404).
    refused = 404 if actor == "xiaolin_volunteer" else 403
    assert scan(client, receiving, "NL2100000001").status_code == refused
    assert client.post(url("sign-off", receiving)).status_code == refused
    assert client.post(url("start", receiving)).status_code == 403
    assert not ReceiptEntry.objects.exists()


def test_staff_of_the_central_library_may_scan_but_not_sign_off(
    client_for, central_volunteer, receiving
):
    client = client_for(central_volunteer)
    response = scan(client, receiving, "NL2100000001")
    assert response.status_code == 200
    assert response.json()["outcome"] == "received"
    assert client.post(url("sign-off", receiving)).status_code == 403


def test_a_scan_answers_with_the_outcome_and_the_running_counts(
    client_for, sui_librarian, receiving
):
    client = client_for(sui_librarian)
    first = scan(client, receiving, "NL2100000002").json()
    assert (first["outcome"], first["title"]) == ("received", "测试图书第2号")
    counts = first["counts"]
    assert {
        key: counts[key] for key in ("expected", "received", "waiting", "damaged", "extra")
    } == {
        "expected": 10,
        "received": 1,
        "waiting": 9,
        "damaged": 0,
        "extra": 0,
    }
    assert scan(client, receiving, "NL2100000002").json()["outcome"] == "already"
    assert scan(client, receiving, "XX99999999").json()["outcome"] == "extra"
    assert scan(client, receiving, "好的!").json()["outcome"] == "invalid"
    damaged = scan(client, receiving, "NL2100000003", damaged="on").json()
    assert damaged["outcome"] == "damaged"
    assert damaged["counts"]["damaged"] == 1


def test_without_javascript_the_scan_page_reloads_with_the_result(
    client_for, sui_librarian, receiving
):
    response = client_for(sui_librarian).post(url("scan", receiving), {"barcode": "NL2100000004"})
    assert response.status_code == 200
    assert "已验收" in response.content.decode()


def test_a_scan_outside_receiving_is_refused_with_a_message_not_a_500(
    client_for, sui_librarian, announced
):
    response = scan(client_for(sui_librarian), announced, "NL2100000001")
    assert response.status_code == 409
    assert "不在验收中" in response.json()["error"]


def test_upload_preview_then_commit(client_for, sui_librarian, announced):
    client = client_for(sui_librarian)
    upload = SimpleUploadedFile("manifest.csv", csv_bytes(rows(25)))
    preview = client.post(url("import", announced), {"file": upload}, follow=True)
    assert preview.status_code == 200
    assert preview.context["manifest"]["item_count"] == 25
    assert not Item.objects.exists()
    token = preview.context["token"]
    response = client.post(url("import-commit", announced), {"token": token})
    assert response.status_code == 302
    assert Item.objects.filter(consignment=announced, status="expected").count() == 25
    # The token is spent: a second commit is refused, and nothing doubles.
    again = client.post(url("import-commit", announced), {"token": token}, follow=True)
    assert "预览已过期" in again.content.decode()
    assert Item.objects.count() == 25


def test_a_preview_with_errors_shows_them_by_row_and_offers_no_commit(
    client_for, sui_librarian, announced
):
    data = rows(3)
    data[1][1] = "9787500000010"
    upload = SimpleUploadedFile("manifest.csv", csv_bytes(data))
    response = client_for(sui_librarian).post(
        url("import", announced), {"file": upload}, follow=True
    )
    page = response.content.decode()
    assert "第 3 行" in page and "9787500000010" in page and "校验位" in page
    assert response.context["token"] == ""


def test_an_oversized_upload_is_refused_before_parsing(
    client_for, sui_librarian, announced, settings
):
    settings.CONSIGNMENT_IMPORT_MAX_BYTES = 50
    upload = SimpleUploadedFile("manifest.csv", csv_bytes(rows(5)))
    response = client_for(sui_librarian).post(url("import", announced), {"file": upload})
    assert response.status_code == 400
    assert "超过了" in response.content.decode()


def test_sign_off_records_missing_and_who_signed(client_for, sui_librarian, receiving):
    client = client_for(sui_librarian)
    for code in ("NL2100000001", "NL2100000002"):
        scan(client, receiving, code)
    scan(client, receiving, "XX00000001")
    assert client.post(url("sign-off", receiving)).status_code == 302
    receiving.refresh_from_db()
    assert receiving.status == "active"
    assert receiving.signed_off_by == sui_librarian
    assert receiving.signed_off_at is not None
    assert Item.objects.filter(consignment=receiving, status="missing").count() == 8
    assert Item.objects.filter(consignment=receiving, status="available").count() == 2


def test_the_missing_and_extra_lists_export_as_csv_and_xlsx(client_for, sui_librarian, receiving):
    client = client_for(sui_librarian)
    scan(client, receiving, "NL2100000001")
    scan(client, receiving, "=HYPERLINK1")  # not a barcode: invalid, never exported
    scan(client, receiving, "EXTRA-0001")
    client.post(url("sign-off", receiving))
    missing = client.get(url("export", receiving, "missing", "csv"))
    assert missing["Content-Type"].startswith("text/csv")
    lines = b"".join(missing.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("条码号,题名")
    assert len(lines) == 1 + 9
    book = load_workbook(io.BytesIO(client.get(url("export", receiving, "extra", "xlsx")).content))
    values = [[cell.value for cell in row] for row in book.active.iter_rows()]
    assert values[1][0] == "EXTRA-0001"
    assert client.get(url("export", receiving, "secret", "csv")).status_code == 404


def test_the_manifest_template_downloads_in_both_formats(client_for, sui_librarian):
    client = client_for(sui_librarian)
    response = client.get(reverse("collections:consignment-manifest-template", args=["csv"]))
    assert b"".join(response.streaming_content).decode("utf-8-sig").startswith("条码号,ISBN,题名")
    xlsx = client.get(reverse("collections:consignment-manifest-template", args=["xlsx"]))
    assert xlsx.content.startswith(b"PK")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_manifest_template_reads_back_without_a_problem(client_for, sui_librarian, fmt):
    from collections_app.importing import read_manifest

    response = client_for(sui_librarian).get(
        reverse("collections:consignment-manifest-template", args=[fmt])
    )
    body = b"".join(response.streaming_content) if response.streaming else response.content
    manifest = read_manifest(body)
    assert manifest.problems == []
    assert [t.title for t in manifest.titles] == ["活着", "乡土中国"]


def test_a_librarian_announces_a_consignment_for_their_library(client_for, sui_librarian, nlc):
    response = client_for(sui_librarian).post(
        reverse("collections:consignment-announce"),
        {"lender": nlc.pk, "reference": "NLC-2025-01", "agreement_date": "2025-01-10"},
    )
    consignment = Consignment.objects.get(reference="NLC-2025-01")
    assert response.status_code == 302
    assert (consignment.library.code, consignment.status) == ("SUIXIAN", "announced")


def test_only_librarians_may_open_the_announce_form(client_for, hubei_reviewer, nlc_lender):
    for actor in (hubei_reviewer, nlc_lender):
        assert client_for(actor).get(reverse("collections:consignment-announce")).status_code == 403


def test_the_scan_json_is_plain_json(client_for, sui_librarian, receiving):
    response = scan(client_for(sui_librarian), receiving, "NL2100000005")
    assert json.loads(response.content)["barcode"] == "NL2100000005"


def test_a_scan_done_elsewhere_shows_in_the_recent_list(client_for, sui_librarian, receiving):
    consignment_scan(user=sui_librarian, consignment=receiving, barcode="NL2100000006")
    page = client_for(sui_librarian).get(url("scan", receiving)).content.decode()
    assert "NL2100000006" in page
