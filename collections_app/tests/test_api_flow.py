"""A county IT script, with nothing but an API token, receives an NLC consignment (announce,
manifest checked then imported, scan in, sign off), allocates part of it to a branch by a
transfer, dispatches and receives it — no browser anywhere."""

import io

from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.tokens import api_token_create
from circulation.integrity import find_violations
from collections_app.models import Item
from collections_app.tests.manifest_files import csv_bytes, rows
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


def poll(client, url, tries=20):
    """What a script does with a 202: ask the status URL until the job has finished."""
    for _ in range(tries):
        status = client.get(url).json()
        if status["finished"]:
            return status
    raise AssertionError(f"job at {url} did not finish")


def test_a_county_script_receives_allocates_and_moves_a_consignment(
    nlc, suixian, sui_central, sui_branch, sui_librarian
):
    _token, secret = api_token_create(user=sui_librarian, name="县馆数据脚本")
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    manifest = csv_bytes(rows(40, prefix="SX25"))
    barcodes = [row[0] for row in rows(40, prefix="SX25")]

    announced = script.post(
        "/api/v1/consignments/",
        {"reference": "NLC-2025-SX", "agreement_date": "2025-04-01", "expected_count": 40},
        format="json",
    )
    assert announced.status_code == 201, announced.json()
    consignment = announced["Location"]

    def upload(**fields):
        return script.post(
            consignment + "manifest/",
            {"file": io.BytesIO(manifest), **fields},
            format="multipart",
        )

    check = upload(dry_run="true")
    assert check.status_code == 202
    preview = poll(script, check["Location"])["result"]
    assert preview["committable"] and preview["manifest"]["item_count"] == 40
    imported = poll(script, upload()["Location"])
    assert (imported["status"], imported["result"]["items"]) == ("succeeded", 40)

    assert script.post(consignment + "start/").json()["status"] == "receiving"
    scan = {"barcodes": barcodes[:38] + ["SX99999999"]}
    # The scanner's network drops the first answer; the retry with the same key books nothing
    # twice and gets the same answer.
    first = script.post(consignment + "scan/", scan, format="json", HTTP_IDEMPOTENCY_KEY="box-1")
    retry = script.post(consignment + "scan/", scan, format="json", HTTP_IDEMPOTENCY_KEY="box-1")
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    counts = first.json()["counts"]
    assert (counts["received"], counts["waiting"], counts["extra"]) == (38, 2, 1)
    missing = script.get(consignment + "missing/").json()
    assert [row["barcode"] for row in missing["results"]] == barcodes[38:]
    assert [row["barcode"] for row in script.get(consignment + "extra/").json()["results"]] == [
        "SX99999999"
    ]
    signed = script.post(consignment + "sign-off/").json()
    assert (signed["missing"], signed["consignment"]["status"]) == (2, "active")

    allocation = script.post(
        "/api/v1/transfers/",
        {
            "source": "SUIXIAN.central",
            "destination": "SUIXIAN.lijiadian",
            "reason": "allocation",
            "note": "首批分配",
            "filters": {"count": 25, "consignment": "NLC-2025-SX"},
        },
        format="json",
    )
    assert allocation.status_code == 201, allocation.json()
    transfer = allocation["Location"]
    sent = [line["item"] for line in allocation.json()["lines"]]
    assert len(sent) == 25 and set(sent) <= set(barcodes[:38])
    assert script.post(transfer + "dispatch/").json()["status"] == "dispatched"
    received = script.post(transfer + "receive/", {"barcodes": sent}, format="json").json()
    assert (received["status"], received["completed"], len(received["received"])) == (
        "received",
        True,
        25,
    )

    at_branch = script.get("/api/v1/items/", {"current_site__code": "lijiadian"}).json()
    assert at_branch["count"] == 25
    assert Item.objects.filter(status="available", home_site=sui_branch).count() == 25
    assert Item.objects.filter(status="available", current_site=sui_central).count() == 13
    assert Item.objects.filter(status="missing").count() == 2
    assert find_violations() == []
    call_command("check_integrity", stdout=io.StringIO())  # exits non-zero when broken
