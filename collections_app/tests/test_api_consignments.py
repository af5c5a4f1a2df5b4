"""Receiving a consignment through the API: announce, manifest (checked or imported by a job
whose status the client polls), start, scan, sign off, and the lists. Same services, same
messages and the same scope as the receiving pages."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from circulation.integrity import find_violations
from collections_app.jobs import preview_of
from collections_app.models import Consignment, Item, ReceiptEntry, Title
from collections_app.services.receiving import (
    consignment_import,
    consignment_scan,
    consignment_start_receiving,
)
from collections_app.tests.manifest_files import (
    cnmarc_record,
    csv_bytes,
    iso2709,
    rows,
    xlsx_bytes,
)
from conftest import make_user
from jobs.models import Job
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


@pytest.fixture
def api():
    return APIClient()


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


def as_(api, user):
    api.force_authenticate(user)
    return api


def url(consignment, action=""):
    return f"/api/v1/consignments/{consignment.pk}/" + (f"{action}/" if action else "")


def upload(api, consignment, data, name="manifest.csv", **fields):
    return api.post(
        url(consignment, "manifest"),
        {"file": SimpleUploadedFile(name, data), **fields},
        format="multipart",
    )


def bad_isbn_rows():
    data = rows(6)
    data[3][1] = "9787500000010"  # a wrong check digit on file row 5
    return data


# Announce -------------------------------------------------------------------------------------


def test_a_county_librarian_announces_a_consignment_for_their_library(
    api, sui_librarian, nlc, sui_central
):
    response = as_(api, sui_librarian).post(
        "/api/v1/consignments/",
        {"reference": " NLC-2025-SX ", "agreement_date": "2025-03-01", "expected_count": 500},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["reference"], body["library"], body["lender"], body["status"]) == (
        "NLC-2025-SX",
        "SUIXIAN",
        "NLC",
        "announced",
    )
    assert response["Location"].endswith(f"/api/v1/consignments/{body['id']}/")
    assert api.get(response["Location"]).json()["expected_count"] == 500


def test_announcing_twice_or_with_a_term_before_the_agreement_is_refused_as_at_the_desk(
    api, sui_librarian, nlc, announced
):
    as_(api, sui_librarian)
    again = api.post(
        "/api/v1/consignments/",
        {"reference": "NLC-2024-SX", "agreement_date": "2024-05-01"},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["code"] == "consignment_reference_taken"
    assert again.json()["message"] == "国家图书馆已有批次号为“NLC-2024-SX”的批次。"
    backwards = api.post(
        "/api/v1/consignments/",
        {"reference": "NLC-X", "agreement_date": "2024-05-01", "term_ends_on": "2024-04-01"},
        format="json",
    )
    assert backwards.status_code == 409
    assert backwards.json()["code"] == "term_ends_too_early"
    assert backwards.json()["message"] == "期满日期应晚于协议日期。"
    english = api.post(
        "/api/v1/consignments/",
        {"reference": "NLC-2024-SX", "agreement_date": "2024-05-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.status_code == 409 and "NLC-2024-SX" in english.json()["message"]
    assert english.json()["message"] != again.json()["message"]
    assert Consignment.objects.count() == 1


@pytest.mark.parametrize("actor", ["hubei_reviewer", "nlc_lender", "xiaolin_volunteer"])
def test_only_county_librarians_announce(api, request, actor, nlc, suixian):
    response = as_(api, request.getfixturevalue(actor)).post(
        "/api/v1/consignments/",
        {"reference": "NLC-9", "agreement_date": "2025-01-01", "library": "SUIXIAN"},
        format="json",
    )
    assert response.status_code == 403
    assert not Consignment.objects.exists()


def test_a_librarian_cannot_announce_for_another_county(api, zengdu_librarian, nlc, suixian):
    response = as_(api, zengdu_librarian).post(
        "/api/v1/consignments/",
        {"reference": "NLC-9", "agreement_date": "2025-01-01", "library": "SUIXIAN"},
        format="json",
    )
    assert response.status_code == 400
    assert "library" in response.json()["fields"]
    assert not Consignment.objects.exists()


def test_the_administrator_names_the_receiving_library(api, superuser, nlc, suixian):
    as_(api, superuser)
    body = {"reference": "NLC-9", "agreement_date": "2025-01-01"}
    missing = api.post("/api/v1/consignments/", body, format="json")
    assert missing.status_code == 400 and "library" in missing.json()["fields"]
    done = api.post("/api/v1/consignments/", body | {"library": "SUIXIAN"}, format="json")
    assert done.status_code == 201 and done.json()["library"] == "SUIXIAN"


# Manifest -------------------------------------------------------------------------------------


def test_a_dry_run_answers_202_and_its_job_gives_the_web_preview(api, sui_librarian, announced):
    data = csv_bytes(bad_isbn_rows())
    response = upload(as_(api, sui_librarian), announced, data, dry_run="true")
    assert response.status_code == 202
    assert response["Location"] == response.json()["url"]
    status = api.get(response["Location"]).json()
    assert (status["kind"], status["status"], status["finished"]) == (
        "manifest-preview",
        "succeeded",
        True,
    )
    preview = status["result"]
    # The same check as the web import, row and field for row and field.
    web = preview_of(
        consignment_import(user=sui_librarian, consignment=announced, data=data, dry_run=True)
    )
    assert preview["manifest"]["errors"] == web["manifest"]["errors"]
    assert [(e["where"], e["field"]) for e in preview["manifest"]["errors"]] == [
        ("第 5 行", "ISBN")
    ]
    assert preview["manifest"]["item_count"] == 6
    assert preview["by_clc"] == web["by_clc"]
    assert preview["has_errors"] is True and preview["committable"] is False
    assert not Item.objects.exists() and not Title.objects.exists()


def test_a_clean_dry_run_is_committable_and_writes_nothing(api, sui_librarian, announced):
    response = upload(as_(api, sui_librarian), announced, csv_bytes(rows(4)), dry_run=True)
    preview = api.get(response["Location"]).json()["result"]
    assert preview["committable"] is True
    assert preview["manifest"]["title_count"] == 4
    assert sum(row["items"] for row in preview["by_clc"]) == 4
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    "name,data",
    [
        ("m.csv", csv_bytes(rows(12))),
        ("m.csv", csv_bytes(rows(12), encoding="gb18030")),
        ("anything.bin", xlsx_bytes(rows(12))),
    ],
)
def test_an_import_writes_every_volume_expected_at_the_central_library(
    api, sui_librarian, announced, sui_central, name, data
):
    response = upload(as_(api, sui_librarian), announced, data, name=name)
    assert response.status_code == 202
    status = api.get(response["Location"]).json()
    assert (status["kind"], status["status"]) == ("manifest-commit", "succeeded")
    assert status["result"]["items"] == 12 and status["code"] == ""
    assert "12 册待验收" in status["message"]
    assert Item.objects.filter(status="expected", current_site=sui_central).count() == 12
    assert find_violations() == []


def test_a_marc_manifest_imports_with_the_chosen_holdings_field(api, sui_librarian, announced):
    records = [
        cnmarc_record("r1", "乡土中国", "9787101066418", "C912.82", ["SX000101", "SX000102"]),
        cnmarc_record("r2", "活着", "9787506365437", "I247.57", ["SX000103"]),
    ]
    response = upload(
        as_(api, sui_librarian), announced, iso2709(records, "gb18030"), holdings="906$b"
    )
    assert api.get(response["Location"]).json()["status"] == "succeeded"
    assert sorted(Item.objects.values_list("barcode", flat=True)) == [
        "SX000101",
        "SX000102",
        "SX000103",
    ]


def test_an_import_with_one_bad_row_writes_nothing_and_the_job_lists_it(
    api, sui_librarian, announced
):
    response = upload(as_(api, sui_librarian), announced, csv_bytes(bad_isbn_rows()))
    status = api.get(response["Location"]).json()
    assert status["status"] == "failed"
    assert status["error"] == "清单有 1 处错误，未导入任何记录。"
    assert status["code"] == "import_invalid"
    assert len(status["problems"]) == 1 and status["problems"][0].startswith("第 5 行 · ISBN")
    assert status["result"] == {}
    assert not Item.objects.exists() and not Title.objects.exists()
    assert find_violations() == []


def test_a_manifest_for_a_consignment_past_receiving_is_refused_in_its_jobs_status(
    api, sui_librarian, receiving
):
    """The upload is answered 202 and never 409 (so the schema documents no 409 for it): the
    refusal of the import is the job's, as on the web import."""
    from collections_app.services.receiving import consignment_sign_off

    consignment_sign_off(user=sui_librarian, consignment=receiving)
    response = upload(as_(api, sui_librarian), receiving, csv_bytes(rows(3, start=50)))
    assert response.status_code == 202
    status = api.get(response["Location"]).json()
    assert status["status"] == "failed" and "不能再导入清单" in status["error"]
    assert status["code"] == "consignment_not_importable"
    assert Item.objects.count() == 10


def test_the_same_file_twice_creates_nothing_new_and_says_so(api, sui_librarian, announced):
    data = csv_bytes(rows(5))
    upload(as_(api, sui_librarian), announced, data)
    second = api.get(upload(api, announced, data)["Location"]).json()
    assert second["status"] == "succeeded"
    assert "没有新建任何记录" in second["message"]
    assert Item.objects.count() == 5


def test_a_file_too_large_or_a_bad_holdings_field_is_a_field_error(
    api, sui_librarian, announced, settings
):
    settings.CONSIGNMENT_IMPORT_MAX_BYTES = 100
    as_(api, sui_librarian)
    large = upload(api, announced, csv_bytes(rows(20)))
    assert large.status_code == 400 and "file" in large.json()["fields"]
    holdings = upload(api, announced, b"x", holdings="nonsense")
    assert holdings.status_code == 400 and "holdings" in holdings.json()["fields"]
    empty = api.post(url(announced, "manifest"), {}, format="multipart")
    assert empty.status_code == 400 and "file" in empty.json()["fields"]
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "actor,code",
    [
        ("hubei_reviewer", 403),
        ("nlc_lender", 403),
        ("xiaolin_volunteer", 403),
        ("central_volunteer", 403),
        ("zengdu_librarian", 404),
    ],
)
def test_only_the_county_librarian_uploads_a_manifest(api, request, actor, code, announced):
    response = upload(as_(api, request.getfixturevalue(actor)), announced, csv_bytes(rows(3)))
    assert response.status_code == code
    assert not Job.objects.exists() and not Item.objects.exists()


def test_a_job_is_seen_only_by_whoever_started_it(
    api, sui_librarian, zengdu_librarian, superuser, announced
):
    location = upload(as_(api, sui_librarian), announced, csv_bytes(rows(2)), dry_run=True)[
        "Location"
    ]
    assert api.get(location).status_code == 200
    for other in (zengdu_librarian, superuser):
        assert as_(api, other).get(location).status_code == 404
    assert api.get("/api/v1/jobs/not-a-job/").status_code == 404
    api.force_authenticate(None)
    assert api.get(location).status_code in (401, 403)


# Start, scan, sign off ------------------------------------------------------------------------


def test_start_needs_a_manifest_and_a_librarian(api, sui_librarian, hubei_reviewer, announced):
    empty = as_(api, sui_librarian).post(url(announced, "start"))
    assert empty.status_code == 409
    assert empty.json()["code"] == "manifest_missing"
    assert empty.json()["message"] == "请先导入批次清单，再开始验收。"
    consignment_import(user=sui_librarian, consignment=announced, data=csv_bytes(rows(2)))
    assert as_(api, hubei_reviewer).post(url(announced, "start")).status_code == 403
    started = as_(api, sui_librarian).post(url(announced, "start"))
    assert started.status_code == 200 and started.json()["status"] == "receiving"
    again = api.post(url(announced, "start"))
    assert again.status_code == 409 and again.json()["code"] == "consignment_not_announced"


def test_scans_answer_each_outcome_as_the_scanning_page_does(api, sui_librarian, receiving):
    response = as_(api, sui_librarian).post(
        url(receiving, "scan"),
        {
            "barcodes": ["NL2100000001", "ＮＬ２１０００００００２", "NL2100000001", "XX99", "!!"],
            "damaged": ["NL2100000002"],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [(row["barcode"], row["outcome"]) for row in body["results"]] == [
        ("NL2100000001", "received"),
        ("NL2100000002", "damaged"),
        ("NL2100000001", "already"),
        ("XX99", "extra"),
        ("!!", "invalid"),
    ]
    assert body["results"][0]["message"] == "已验收。"
    assert body["results"][3]["message"] == "不在本批清单中，请放到清单外一侧。"
    assert {key: body["counts"][key] for key in ("received", "damaged", "waiting", "extra")} == {
        "received": 2,
        "damaged": 1,
        "waiting": 8,
        "extra": 1,
    }
    assert Item.objects.get(barcode="NL2100000002").status == "damaged"
    assert find_violations() == []


def test_scans_of_a_consignment_not_receiving_are_refused_and_none_recorded(
    api, sui_librarian, announced
):
    consignment_import(user=sui_librarian, consignment=announced, data=csv_bytes(rows(2)))
    response = as_(api, sui_librarian).post(
        url(announced, "scan"), {"barcodes": ["NL2100000001", "NL2100000002"]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "consignment_not_receiving"
    assert response.json()["message"] == "批次状态为“已通知”，不在验收中。"
    assert not ReceiptEntry.objects.exists()
    assert not Item.objects.exclude(status="expected").exists()


def test_a_blank_scan_is_a_field_error_and_nothing_is_recorded(api, sui_librarian, receiving):
    response = as_(api, sui_librarian).post(
        url(receiving, "scan"), {"barcodes": ["NL2100000001", "  "]}, format="json"
    )
    assert response.status_code == 400
    assert "barcodes" in response.json()["fields"]
    assert not ReceiptEntry.objects.exists()


@pytest.mark.parametrize(
    "actor,code",
    [
        ("central_volunteer", 200),
        ("xiaolin_volunteer", 404),
        ("hubei_reviewer", 403),
        ("nlc_lender", 403),
        ("zengdu_librarian", 404),
    ],
)
def test_who_may_scan_is_who_works_at_the_central_library(api, request, actor, code, receiving):
    response = as_(api, request.getfixturevalue(actor)).post(
        url(receiving, "scan"), {"barcodes": ["NL2100000001"]}, format="json"
    )
    assert response.status_code == code
    assert ReceiptEntry.objects.exists() == (code == 200)


def test_sign_off_records_the_unscanned_volumes_missing(api, sui_librarian, receiving):
    consignment_scan(user=sui_librarian, consignment=receiving, barcode="NL2100000001")
    response = as_(api, sui_librarian).post(url(receiving, "sign-off"))
    assert response.status_code == 200
    body = response.json()
    assert body["missing"] == 9
    assert body["consignment"]["status"] == "active"
    assert body["consignment"]["signed_off_at"]
    assert (body["counts"]["received"], body["counts"]["missing"]) == (1, 9)
    assert Item.objects.filter(status="missing").count() == 9
    again = api.post(url(receiving, "sign-off"))
    assert again.status_code == 409
    assert again.json()["code"] == "consignment_not_receiving"
    assert again.json()["message"] == "批次状态为“服务中”，不能签收。"
    assert find_violations() == []


@pytest.mark.parametrize(
    "actor,code",
    [
        ("central_volunteer", 403),
        ("xiaolin_volunteer", 404),
        ("hubei_reviewer", 403),
        ("nlc_lender", 403),
        ("zengdu_librarian", 404),
    ],
)
def test_only_the_county_librarian_signs_off(api, request, actor, code, receiving):
    response = as_(api, request.getfixturevalue(actor)).post(url(receiving, "sign-off"))
    assert response.status_code == code
    receiving.refresh_from_db()
    assert receiving.status == "receiving"
    assert not Item.objects.filter(status="missing").exists()


def test_the_missing_and_extra_lists_and_the_figures(api, sui_librarian, hubei_reviewer, receiving):
    for code in ("NL2100000001", "NL2100000002", "XX77", "XX77"):
        consignment_scan(user=sui_librarian, consignment=receiving, barcode=code)
    as_(api, sui_librarian)
    missing = api.get(url(receiving, "missing")).json()
    assert missing["count"] == 8
    assert missing["results"][0] == {
        "barcode": "NL2100000003",
        "title": "测试图书第3号",
        "isbn": Item.objects.get(barcode="NL2100000003").title.isbn,
        "call_number": "G634.413/3",
        "clc": "G634.413",
        "status": "expected",
    }
    extra = api.get(url(receiving, "extra")).json()
    assert [(row["barcode"], row["scans"]) for row in extra["results"]] == [("XX77", 2)]
    figures = api.get(url(receiving, "reconciliation")).json()
    assert (figures["received"], figures["missing"], figures["extra"]) == (2, 8, 1)
    # The province reads them too; the lists stay after sign-off.
    as_(api, hubei_reviewer)
    assert api.get(url(receiving, "missing")).json()["count"] == 8


def test_the_lists_follow_the_scope_of_the_sign_off_page(
    api, xiaolin_volunteer, zengdu_librarian, central_volunteer, receiving
):
    for action in ("missing", "extra"):
        assert as_(api, xiaolin_volunteer).get(url(receiving, action)).status_code == 404
        assert as_(api, zengdu_librarian).get(url(receiving, action)).status_code == 404
        assert as_(api, central_volunteer).get(url(receiving, action)).status_code == 200
    assert as_(api, zengdu_librarian).get(url(receiving, "reconciliation")).status_code == 404


def test_a_request_holds_at_most_a_few_boxes_of_scans(api, sui_librarian, receiving):
    from collections_app.api import MAX_SCANS

    response = as_(api, sui_librarian).post(
        url(receiving, "scan"), {"barcodes": ["NL2100000001"] * (MAX_SCANS + 1)}, format="json"
    )
    assert response.status_code == 400 and "barcodes" in response.json()["fields"]
    assert not ReceiptEntry.objects.exists()


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize(
    "data", [b"\x89PNG\r\n\x1a\n" + bytes(range(256)), b"PK\x03\x04broken zip", b"", b"\xff" * 64]
)
def test_a_file_that_is_no_manifest_is_answered_not_crashed_on(
    api, sui_librarian, announced, data, dry_run
):
    response = upload(as_(api, sui_librarian), announced, data, name="x.xlsx", dry_run=dry_run)
    assert response.status_code in (202, 400), response.content
    if response.status_code == 202:
        status = api.get(response["Location"]).json()
        assert status["finished"]
        if status["status"] == "succeeded":
            assert status["result"]["has_errors"] and not status["result"]["committable"]
        else:
            assert status["error"] and "Traceback" not in status["error"]
    assert not Item.objects.exists()
