"""The circulation API refuses what the desk refuses: the rules live in the services."""

import pytest
from rest_framework.test import APIClient

from circulation.models import Loan
from collections_app.models import Item
from conftest import make_item
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


@pytest.fixture
def api(sui_librarian):
    client = APIClient()
    client.force_authenticate(sui_librarian)
    return client


@pytest.fixture
def books(sui_consignment, sui_branch):
    return [make_item(sui_consignment, sui_branch, f"NL7100000{n}") for n in range(2)]


def post(api, what, barcode, **data):
    return api.post(
        f"/api/v1/circulation/{what}/",
        {"site": "SUIXIAN.lijiadian", "barcode": barcode, **data},
        format="json",
    )


def test_the_api_lends_returns_and_renews_at_an_active_site(api, wang, books):
    response = post(api, "checkout", books[0].barcode, card_number=wang.card_number)
    assert response.status_code == 201
    assert post(api, "return", books[0].barcode).status_code == 200


def test_the_api_does_not_lend_return_or_renew_at_an_inactive_site(api, sui_branch, wang, books):
    assert post(api, "checkout", books[0].barcode, card_number=wang.card_number).status_code == 201
    sui_branch.is_active = False
    sui_branch.save()
    response = post(api, "checkout", books[1].barcode, card_number=wang.card_number)
    assert response.status_code == 409 and "已停用" in response.json()["message"]
    for what in ("return", "renew"):
        response = post(api, what, books[0].barcode)
        assert response.status_code == 409 and "已停用" in response.json()["message"]
    assert Loan.objects.open().count() == 1
    assert Item.objects.get(pk=books[1].pk).status == "available"


def test_a_return_says_when_in_the_same_time_zone_as_the_loan(api, wang, books):
    loan = post(api, "checkout", books[0].barcode, card_number=wang.card_number).json()
    returned = post(api, "return", books[0].barcode).json()
    offset = loan["checked_out_at"][-6:]
    assert offset[0] in "+-" and returned["returned_at"].endswith(offset)


def test_a_checkout_for_a_card_nobody_holds_says_it_was_the_reader(api, wang, zengdu_reader, books):
    for card in ("SX999999", "", zengdu_reader.card_number):
        response = post(api, "checkout", books[0].barcode, card_number=card)
        assert response.status_code == 404, card
        assert response.json()["code"] == "patron_not_found", card
        assert response.json()["message"] == "找不到这位读者。"
    english = api.post(
        "/api/v1/circulation/checkout/",
        {"site": "SUIXIAN.lijiadian", "barcode": books[0].barcode, "card_number": "SX999999"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.json()["code"] == "patron_not_found"
    # An unknown site is not the reader: it keeps the plain code.
    nowhere = api.post(
        "/api/v1/circulation/checkout/",
        {"site": "SUIXIAN.nowhere", "barcode": books[0].barcode, "card_number": wang.card_number},
        format="json",
    )
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "not_found"
    assert not Loan.objects.exists()


def test_a_checkout_without_a_loan_rule_for_the_reader_says_so(api, wang, books):
    from circulation.models import LoanRule

    LoanRule.objects.filter(library=wang.library).delete()
    response = post(api, "checkout", books[0].barcode, card_number=wang.card_number)
    assert response.status_code == 409
    assert response.json()["code"] == "loan_rule_missing"
    assert not Loan.objects.exists()
