"""Readers through the API: found, registered, edited, suspended and reinstated with the reader
form's rules and the patron services' refusals, in each actor's scope."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from circulation.models import Patron
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def new_reader(**fields):
    return {
        "card_number": "SX100001",
        "name": "陈晨",
        "category": "adult",
        "home_site": "SUIXIAN.xiaolin",
        "phone": "13900000000",
        "birth_year": 1990,
    } | fields


def assert_integrity():
    call_command("check_integrity")  # exits non-zero (SystemExit) when anything is broken


def test_a_librarian_finds_readers_by_card_number_or_name(sui_librarian, wang, li, zengdu_reader):
    api = api_for(sui_librarian)
    everyone = api.get("/api/v1/patrons/").json()
    assert [p["card_number"] for p in everyone["results"]] == ["SX000001", "SX000002"]
    assert [p["card_number"] for p in api.get("/api/v1/patrons/?q=SX000002").json()["results"]] == [
        "SX000002"
    ]
    by_name = api.get("/api/v1/patrons/", {"q": "王"}).json()["results"]
    assert [p["name"] for p in by_name] == ["王芳"]
    assert api.get("/api/v1/patrons/?q=赵敏").json()["count"] == 0  # another county's reader
    one = api.get("/api/v1/patrons/SX000001/").json()
    assert one["home_site"] == "central" and one["open_loans"] == 0


def test_a_librarian_registers_a_reader_with_the_forms_cleaning(
    sui_librarian, loan_rules, xiaolin_site, zengdu_central
):
    api = api_for(sui_librarian)
    response = api.post("/api/v1/patrons/", new_reader(card_number=" ＳＸ100001 "), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["card_number"] == "SX100001" and body["home_site"] == "xiaolin"
    patron = Patron.objects.get(card_number="SX100001")
    assert patron.library.code == "SUIXIAN" and patron.birth_year == 1990
    assert_integrity()


@pytest.mark.parametrize(
    "fields, field, code",
    [
        ({"card_number": "   "}, "card_number", None),
        ({"birth_year": 1850}, "birth_year", None),
        ({"category": "alien"}, "category", "invalid_choice"),
        ({"home_site": "ZENGDU.central"}, "home_site", "invalid_choice"),
        ({"home_site": "nowhere"}, "home_site", "invalid_choice"),
        ({"card_number": "X" * 40}, "card_number", None),
        ({"name": ""}, "name", None),
    ],
)
def test_a_reader_the_form_refuses_is_400_field_by_field(
    fields, field, code, sui_librarian, loan_rules, xiaolin_site, zengdu_central
):
    response = api_for(sui_librarian).post("/api/v1/patrons/", new_reader(**fields), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"], body
    if code:
        assert body["fields"][field][0]["code"] == code
    assert not Patron.objects.exists()


def test_a_card_number_already_used_is_a_409_refusal(sui_librarian, wang, xiaolin_site):
    response = api_for(sui_librarian).post(
        "/api/v1/patrons/", new_reader(card_number=wang.card_number), format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "card_number_taken"
    assert response.json()["message"] == f"读者证号 {wang.card_number} 已被使用。"


def test_a_json_array_is_a_400_not_a_failure(sui_librarian, sui_central):
    response = api_for(sui_librarian).post("/api/v1/patrons/", [1, 2], format="json")
    assert response.status_code == 400


def test_a_volunteer_registers_readers_at_their_own_site_only(xiaolin_volunteer, loan_rules):
    api = api_for(xiaolin_volunteer)
    refused = api.post("/api/v1/patrons/", new_reader(home_site="SUIXIAN.central"), format="json")
    assert refused.status_code == 400 and "home_site" in refused.json()["fields"]
    done = api.post("/api/v1/patrons/", new_reader(home_site="xiaolin"), format="json")
    assert done.status_code == 201


def test_read_only_roles_see_no_reader_and_may_not_write(hubei_reviewer, nlc_lender, wang):
    for user in (hubei_reviewer, nlc_lender):
        api = api_for(user)
        assert api.get("/api/v1/patrons/").json()["count"] == 0
        assert api.get(f"/api/v1/patrons/{wang.card_number}/").status_code == 404
        assert api.post("/api/v1/patrons/", new_reader(), format="json").status_code == 403
        for path, body in (("", {"name": "改"}),):
            url = f"/api/v1/patrons/{wang.card_number}/{path}"
            assert api.patch(url, body, format="json").status_code == 403
        url = f"/api/v1/patrons/{wang.card_number}/suspend/"
        assert api.post(url, {"reason": "x"}, format="json").status_code == 403
    wang.refresh_from_db()
    assert wang.name == "王芳" and not wang.is_suspended


def test_another_countys_reader_is_404_for_every_action(zengdu_librarian, wang):
    api = api_for(zengdu_librarian)
    base = f"/api/v1/patrons/{wang.card_number}/"
    assert api.get(base).status_code == 404
    assert api.patch(base, {"name": "改"}, format="json").status_code == 404
    assert api.post(base + "suspend/", {"reason": "x"}, format="json").status_code == 404
    assert api.post(base + "reinstate/").status_code == 404


def test_a_librarian_edits_a_reader_partially(sui_librarian, wang, xiaolin_site):
    api = api_for(sui_librarian)
    response = api.patch(
        f"/api/v1/patrons/{wang.card_number}/",
        {"phone": "13700000000", "home_site": "SUIXIAN.xiaolin"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    wang.refresh_from_db()
    assert wang.phone == "13700000000" and wang.home_site == xiaolin_site
    assert wang.name == "王芳" and wang.birth_year == 2010  # untouched fields stay
    bad = api.patch(f"/api/v1/patrons/{wang.card_number}/", {"birth_year": 3000}, format="json")
    assert bad.status_code == 400 and "birth_year" in bad.json()["fields"]


def test_a_volunteer_may_not_edit_a_reader_of_another_site(xiaolin_volunteer, wang, li):
    api = api_for(xiaolin_volunteer)
    response = api.patch(f"/api/v1/patrons/{wang.card_number}/", {"name": "改"}, format="json")
    assert response.status_code == 403
    response = api.patch(f"/api/v1/patrons/{li.card_number}/", {"name": "李强强"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "李强强"


def test_suspend_and_reinstate_change_what_the_desk_allows(sui_librarian, wang, sui_item):
    api = api_for(sui_librarian)
    base = f"/api/v1/patrons/{wang.card_number}/"
    missing = api.post(base + "suspend/", {"reason": "  "}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    too_long = api.post(base + "suspend/", {"reason": "长" * 201}, format="json")
    assert too_long.status_code == 400
    response = api.post(base + "suspend/", {"reason": "遗失图书未赔"}, format="json")
    assert response.status_code == 200
    assert response.json()["is_suspended"] and response.json()["suspended_reason"] == "遗失图书未赔"
    checkout = api.post(
        "/api/v1/circulation/checkout/",
        {"site": "SUIXIAN.central", "barcode": sui_item.barcode, "card_number": wang.card_number},
        format="json",
    )
    assert checkout.status_code == 409 and "暂停" in checkout.json()["message"]
    response = api.post(base + "reinstate/")
    assert response.status_code == 200 and not response.json()["is_suspended"]
    checkout = api.post(
        "/api/v1/circulation/checkout/",
        {"site": "SUIXIAN.central", "barcode": sui_item.barcode, "card_number": wang.card_number},
        format="json",
    )
    assert checkout.status_code == 201
    assert api.get(base).json()["open_loans"] == 1
    assert_integrity()


def test_the_same_card_in_two_libraries_asks_the_administrator_which(
    superuser, wang, zengdu_central
):
    Patron.objects.create(
        library=zengdu_central.library,
        card_number=wang.card_number,
        name="同号读者",
        category="adult",
        home_site=zengdu_central,
    )
    api = api_for(superuser)
    ambiguous = api.get(f"/api/v1/patrons/{wang.card_number}/")
    assert ambiguous.status_code == 400 and "library" in ambiguous.json()["fields"]
    chosen = api.get(f"/api/v1/patrons/{wang.card_number}/?library=ZENGDU")
    assert chosen.status_code == 200 and chosen.json()["name"] == "同号读者"
