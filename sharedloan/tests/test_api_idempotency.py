"""An API write sent with an Idempotency-Key runs once: a scanner that sends its checkout again,
because the first answer was lost, gets the first answer again and lends once."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import IdempotentRequest
from accounts.tokens import api_token_create
from circulation.integrity import find_violations
from circulation.models import Loan
from circulation.services import loans
from collections_app.models import Consignment
from collections_app.tests.manifest_files import csv_bytes, rows
from conftest import make_item
from jobs.models import Job
from sharedloan.idempotency import request_fingerprint
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401

CHECKOUT = "/api/v1/circulation/checkout/"


@pytest.fixture
def scanner(sui_librarian):
    _token, secret = api_token_create(user=sui_librarian, name="自助借还机")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def checkout(client, barcode, key, card="SX000001"):
    return client.post(
        CHECKOUT,
        {"site": "SUIXIAN.central", "barcode": barcode, "card_number": card},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_the_same_key_and_body_twice_give_the_same_answer_and_one_loan(scanner, reader, sui_item):
    first = checkout(scanner, sui_item.barcode, "scan-0001")
    again = checkout(scanner, sui_item.barcode, "scan-0001")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Loan.objects.filter(item=sui_item).count() == 1
    assert find_violations() == []


def test_without_a_key_a_resend_is_a_second_request(scanner, reader, sui_item):
    first = checkout(scanner, sui_item.barcode, "k1")
    second = scanner.post(
        CHECKOUT,
        {"site": "SUIXIAN.central", "barcode": sui_item.barcode, "card_number": "SX000001"},
        format="json",
    )
    assert first.status_code == 201
    assert second.status_code == 200 and second.json()["already"] is True
    assert IdempotentRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_does_nothing(
    scanner, reader, sui_item, sui_consignment, sui_central
):
    other = make_item(sui_consignment, sui_central, "NL00000099")
    assert checkout(scanner, sui_item.barcode, "scan-0002").status_code == 201
    reused = checkout(scanner, other.barcode, "scan-0002")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused" and reused.json()["message"]
    assert not Loan.objects.filter(item=other).exists()


def test_a_refusal_is_kept_too_and_a_new_key_tries_again(scanner, reader, sui_item):
    refused = checkout(scanner, sui_item.barcode, "scan-0003", card="NOBODY")
    assert refused.status_code == 404
    assert checkout(scanner, sui_item.barcode, "scan-0003", card="NOBODY").content == (
        refused.content
    )
    assert checkout(scanner, sui_item.barcode, "scan-0004").status_code == 201


def test_keys_belong_to_their_user(scanner, reader, sui_item, sui_librarian, zengdu_librarian):
    assert checkout(scanner, sui_item.barcode, "shared-key").status_code == 201
    other = APIClient()
    other.force_authenticate(zengdu_librarian)
    answer = checkout(other, sui_item.barcode, "shared-key")
    assert answer.status_code == 404  # not Sui County's answer replayed to 曾都区
    assert "Idempotent-Replayed" not in answer


def test_a_server_error_keeps_nothing_so_a_retry_runs(scanner, reader, sui_item, monkeypatch):
    real = loans.loan_checkout

    def broken(**kwargs):
        real(**kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(loans, "loan_checkout", broken)
    scanner.raise_request_exception = False
    assert checkout(scanner, sui_item.barcode, "scan-0005").status_code == 500
    assert not Loan.objects.exists()  # the loan went back with the failed request
    assert not IdempotentRequest.objects.exists()
    monkeypatch.setattr(loans, "loan_checkout", real)
    assert checkout(scanner, sui_item.barcode, "scan-0005").status_code == 201


def test_a_key_that_is_no_header_value_is_a_400(scanner, reader, sui_item):
    answer = checkout(scanner, sui_item.barcode, "x" * 256)
    assert answer.status_code == 400
    assert answer.json()["fields"]["Idempotency-Key"][0]["code"] == "invalid"


def test_keys_are_kept_24_hours_then_cleaned_up_and_free_again(scanner, reader, sui_item, capsys):
    assert checkout(scanner, sui_item.barcode, "scan-0006").status_code == 201
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=23))
    call_command("cleanup_idempotency_keys")
    assert IdempotentRequest.objects.count() == 1
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("cleanup_idempotency_keys", "--dry-run")
    assert "1" in capsys.readouterr().out and IdempotentRequest.objects.count() == 1
    assert checkout(scanner, sui_item.barcode, "scan-0006").json()["already"] is True
    call_command("cleanup_idempotency_keys")
    assert IdempotentRequest.objects.count() == 1  # the fresh one just written


def test_a_form_upload_is_the_same_request_whatever_boundary_the_client_draws(db):
    factory = RequestFactory()

    def upload(boundary, content=b"barcode\nNL1\n"):
        body = (
            (
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="dry_run"\r\n\r\ntrue\r\n'
                f"--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="m.csv"\r\n'
                "Content-Type: text/csv\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return factory.generic(
            "POST",
            "/api/v1/consignments/1/manifest/",
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )

    one = request_fingerprint(upload("aaaa1111"))
    assert one == request_fingerprint(upload("bbbb2222"))
    assert one != request_fingerprint(upload("aaaa1111", b"barcode\nNL2\n"))


def test_a_retried_manifest_upload_gets_the_first_answers_location_and_language(
    scanner, nlc, suixian, sui_central
):
    consignment = Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2024-SX", agreement_date=date(2024, 3, 1)
    )

    def upload(language):
        return scanner.post(
            f"/api/v1/consignments/{consignment.pk}/manifest/",
            {"file": SimpleUploadedFile("manifest.csv", csv_bytes(rows(3))), "dry_run": "true"},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="manifest-0001",
            HTTP_ACCEPT_LANGUAGE=language,
        )

    first = upload("en")
    again = upload("zh-hans")
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"] and "/jobs/" in first["Location"]
    assert again["Content-Language"] == first["Content-Language"] == "en"
    assert again.content == first.content
    assert Job.objects.count() == 1
