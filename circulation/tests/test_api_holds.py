"""Holds through the API: placed with the page's form and service, listed, cancelled with the
page's predicate, and trapped by the desk's return scan — the same rules as at the desk."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from circulation.models import Hold, Loan
from collections_app.models import Item, Transfer
from conftest import make_item
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def book(sui_consignment, sui_central):
    return make_item(sui_consignment, sui_central, "NL73000001", title="边城")


def place(api, card, code, pickup="SUIXIAN.central"):
    return api.post(
        "/api/v1/holds/", {"card_number": card, "code": code, "pickup_site": pickup}, format="json"
    )


def lend(api, card, barcode, site="SUIXIAN.central"):
    response = api.post(
        "/api/v1/circulation/checkout/",
        {"site": site, "barcode": barcode, "card_number": card},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_hold_on_a_copy_on_the_shelf_at_the_pickup_site_is_kept_at_once(
    sui_librarian, wang, book
):
    response = place(api_for(sui_librarian), wang.card_number, book.barcode)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "trapped" and body["item"] == book.barcode and body["ready"]
    assert body["pickup_site"] == "SUIXIAN.central" and body["title"] == "边城"


def test_a_hold_by_isbn_waits_and_the_return_scan_traps_it_for_the_reader(
    sui_librarian, wang, li, book, xiaolin_site
):
    api = api_for(sui_librarian)
    lend(api, li.card_number, book.barcode)
    response = place(api, wang.card_number, "978-7-101-06641-8", pickup="SUIXIAN.xiaolin")
    assert response.status_code == 201, response.json()
    hold = response.json()
    assert hold["status"] == "waiting" and hold["item"] is None

    trap = api.post(
        "/api/v1/holds/trap/", {"site": "SUIXIAN.central", "barcode": book.barcode}, format="json"
    )
    assert trap.status_code == 200, trap.json()
    body = trap.json()
    assert body["trapped"] and body["action"] == "hold_transfer"
    assert body["destination"] == "xiaolin" and body["hold"] == hold["id"]
    assert body["hold_detail"]["status"] == "trapped" and not body["hold_detail"]["ready"]
    transfer = Transfer.objects.get(pk=body["transfer"])
    assert transfer.reason == Transfer.Reason.HOLD and transfer.status == Transfer.Status.DRAFT
    assert not Loan.objects.open().exists()
    # The same scan again only says what was decided.
    again = api.post(
        "/api/v1/holds/trap/", {"site": "SUIXIAN.central", "barcode": book.barcode}, format="json"
    )
    assert again.json()["already"] and again.json()["hold"] == hold["id"]
    # Nobody else may borrow the copy kept for wang.
    refused = api.post(
        "/api/v1/circulation/checkout/",
        {"site": "SUIXIAN.central", "barcode": book.barcode, "card_number": li.card_number},
        format="json",
    )
    assert refused.status_code == 409
    call_command("check_integrity")


def test_a_return_with_nobody_waiting_traps_nothing_and_shelves_the_volume(
    sui_librarian, wang, book
):
    api = api_for(sui_librarian)
    lend(api, wang.card_number, book.barcode)
    trap = api.post(
        "/api/v1/holds/trap/", {"site": "SUIXIAN.central", "barcode": book.barcode}, format="json"
    )
    assert trap.status_code == 200
    assert trap.json()["trapped"] is False and trap.json()["hold_detail"] is None
    assert trap.json()["action"] == "shelve"
    assert Item.objects.get(pk=book.pk).status == Item.Status.AVAILABLE


def test_the_return_endpoint_names_the_hold_it_filled(sui_librarian, wang, li, book):
    api = api_for(sui_librarian)
    lend(api, li.card_number, book.barcode)
    hold = place(api, wang.card_number, book.barcode).json()
    body = api.post(
        "/api/v1/circulation/return/",
        {"site": "SUIXIAN.central", "barcode": book.barcode},
        format="json",
    ).json()
    assert body["action"] == "hold_shelf" and body["hold"] == hold["id"]
    checkout = lend(api, wang.card_number, book.barcode)
    assert checkout["hold"] == hold["id"]
    assert Hold.objects.get(pk=hold["id"]).status == Hold.Status.FULFILLED


@pytest.mark.parametrize(
    "data, status, code, where",
    [
        ({"code": "NL99999999"}, 409, "title_not_found", "找不到条码或 ISBN"),
        ({"code": ""}, 400, "invalid", "code"),
        ({"pickup_site": "ZENGDU.central"}, 400, "invalid", "pickup_site"),
        ({"card_number": "NOBODY"}, 404, "patron_not_found", "找不到这位读者"),
    ],
)
def test_a_hold_the_rules_refuse_says_why(
    data, status, code, where, sui_librarian, wang, book, zengdu_central
):
    body = {"card_number": wang.card_number, "code": book.barcode, "pickup_site": "central"}
    response = api_for(sui_librarian).post("/api/v1/holds/", body | data, format="json")
    assert response.status_code == status, response.json()
    answer = response.json()
    assert answer["code"] == code
    assert where in answer["message"] or where in answer.get("fields", {})
    assert not Hold.objects.exists()


def test_an_isbn_of_two_titles_is_refused_with_its_code(sui_librarian, wang, book, sui_central):
    make_item(book.consignment, sui_central, "NL73000009", title="边城（另一版）")
    response = place(api_for(sui_librarian), wang.card_number, "9787101066418")
    assert response.status_code == 409
    assert response.json()["code"] == "isbn_ambiguous"
    assert not Hold.objects.exists()


def test_each_rule_of_placing_a_hold_has_its_own_code(sui_librarian, wang, li, book):
    from circulation.models import LoanRule, Patron

    api = api_for(sui_librarian)
    lend(api, wang.card_number, book.barcode)
    borrowed = place(api, wang.card_number, book.barcode)
    assert borrowed.status_code == 409 and borrowed.json()["code"] == "already_borrowed"
    LoanRule.objects.filter(library=li.library).update(holds_allowed=False)
    forbidden = place(api, li.card_number, book.barcode)
    assert forbidden.status_code == 409 and forbidden.json()["code"] == "holds_not_allowed"
    LoanRule.objects.filter(library=li.library).update(holds_allowed=True)
    Patron.objects.filter(pk=li.pk).update(is_suspended=True)
    suspended = place(api, li.card_number, book.barcode)
    assert suspended.status_code == 409 and suspended.json()["code"] == "patron_suspended"
    Patron.objects.filter(pk=li.pk).update(is_suspended=False)
    missing = make_item(book.consignment, book.current_site, "NL73000003", title="围城")
    Item.objects.filter(pk=missing.pk).update(status=Item.Status.MISSING)
    lost = place(api, li.card_number, missing.barcode)
    assert lost.status_code == 409 and lost.json()["code"] == "no_lendable_copy"
    assert not Hold.objects.exists()


def test_a_second_hold_on_the_same_title_is_refused(sui_librarian, wang, li, book):
    api = api_for(sui_librarian)
    lend(api, li.card_number, book.barcode)
    assert place(api, wang.card_number, book.barcode).status_code == 201
    again = place(api, wang.card_number, book.barcode)
    assert again.status_code == 409 and again.json()["message"] == "读者已经预约了这本书。"
    assert again.json()["code"] == "hold_already_placed"


def test_holds_are_listed_by_status_and_site(sui_librarian, wang, li, book, xiaolin_site):
    api = api_for(sui_librarian)
    other = make_item(book.consignment, xiaolin_site, "NL73000002", title="围城")
    kept = place(api, wang.card_number, book.barcode).json()  # trapped at once
    lend(api, wang.card_number, other.barcode, site="SUIXIAN.xiaolin")
    waiting = place(api, li.card_number, other.barcode, pickup="SUIXIAN.xiaolin").json()
    ids = lambda query: [h["id"] for h in api.get(f"/api/v1/holds/{query}").json()["results"]]  # noqa: E731
    assert ids("") == [kept["id"], waiting["id"]]
    assert ids("?status=waiting") == [waiting["id"]]
    assert ids("?status=trapped&site=SUIXIAN.central") == [kept["id"]]
    assert ids("?site=SUIXIAN.xiaolin") == [waiting["id"]]
    assert ids(f"?card_number={li.card_number}") == [waiting["id"]]
    assert api.get("/api/v1/holds/?status=lost").status_code == 400
    assert api.get(f"/api/v1/holds/{kept['id']}/").json()["card_number"] == wang.card_number


def test_cancelling_a_kept_copy_passes_it_to_the_next_reader_at_that_site(
    sui_librarian, wang, li, book
):
    api = api_for(sui_librarian)
    first = place(api, wang.card_number, book.barcode).json()
    second = place(api, li.card_number, book.barcode).json()
    assert second["status"] == "waiting"
    response = api.post(f"/api/v1/holds/{first['id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.get(f"/api/v1/holds/{second['id']}/").json()["status"] == "trapped"
    again = api.post(f"/api/v1/holds/{first['id']}/cancel/")
    assert again.status_code == 409 and "已经结束" in again.json()["message"]
    assert again.json()["code"] == "hold_not_active"
    call_command("check_integrity")


def test_hold_scope_for_each_actor(
    sui_librarian,
    zengdu_librarian,
    xiaolin_volunteer,
    hubei_reviewer,
    nlc_lender,
    wang,
    book,
    xiaolin_site,
):
    hold = place(api_for(sui_librarian), wang.card_number, book.barcode).json()
    url = f"/api/v1/holds/{hold['id']}/"
    # Another county: not there at all.
    other = api_for(zengdu_librarian)
    assert other.get(url).status_code == 404
    assert other.post(url + "cancel/").status_code == 404
    assert other.get("/api/v1/holds/").json()["count"] == 0
    # Read-only roles see no reader's hold and change nothing.
    for user in (hubei_reviewer, nlc_lender):
        api = api_for(user)
        assert api.get("/api/v1/holds/").json()["count"] == 0
        assert api.get(url).status_code == 404
        assert api.post(url + "cancel/").status_code == 403
        assert place(api, wang.card_number, book.barcode).status_code == 403
        scan = {"site": "SUIXIAN.central", "barcode": book.barcode}
        assert api.post("/api/v1/holds/trap/", scan, format="json").status_code == 403
    # A volunteer sees the library's holds but cancels only those of their site.
    volunteer = api_for(xiaolin_volunteer)
    assert volunteer.get(url).status_code == 200
    assert volunteer.post(url + "cancel/").status_code == 403
    pickup_elsewhere = place(volunteer, wang.card_number, book.barcode, pickup="SUIXIAN.central")
    assert pickup_elsewhere.status_code == 400
    scan = {"site": "SUIXIAN.central", "barcode": book.barcode}  # a site not theirs: unseen
    assert volunteer.post("/api/v1/holds/trap/", scan, format="json").status_code == 404
    assert Hold.objects.get(pk=hold["id"]).status == Hold.Status.TRAPPED
