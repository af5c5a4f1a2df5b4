"""Every API error has one shape: a stable `code` to branch on, a `message` to show, and the
fields or refused rows where there are some."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from conftest import make_item
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


@pytest.fixture
def api(sui_librarian):
    client = APIClient()
    client.force_authenticate(sui_librarian)
    return client


def test_a_refusal_is_409_with_its_code_and_message(api, sui_consignment, sui_branch):
    item = make_item(sui_consignment, sui_branch, "NL7300001")
    sui_branch.is_active = False
    sui_branch.save()
    response = api.post(
        "/api/v1/circulation/renew/",
        {"site": "SUIXIAN.lijiadian", "barcode": item.barcode},
        format="json",
    )
    body = response.json()
    assert response.status_code == 409
    assert body["code"] == "site_inactive" and "已停用" in body["message"]
    assert body["problems"] == []


def test_the_desks_refusals_carry_codes_a_self_check_machine_can_act_on(
    api, reader, sui_consignment, sui_central, sui_branch
):
    from circulation.models import LoanRule, Patron

    def post(action, barcode, card="SX000001"):
        body = {"site": "SUIXIAN.central", "barcode": barcode, "card_number": card}
        response = api.post(f"/api/v1/circulation/{action}/", body, format="json")
        return response.status_code, response.json().get("code")

    first, second = (make_item(sui_consignment, sui_central, f"NL73000{n}") for n in (11, 12))
    other = Patron.objects.create(
        library=reader.library,
        home_site=sui_central,
        card_number="SX000002",
        category=Patron.Category.ADULT,
    )
    assert post("checkout", "NL7399999") == (409, "item_not_found")
    # The API looks the reader up before the desk does: an unknown card is not found, and the
    # code says it was the reader.
    assert post("checkout", first.barcode, card="SX999999") == (404, "patron_not_found")
    assert post("checkout", first.barcode)[0] == 201
    assert post("checkout", first.barcode, card=other.card_number) == (409, "item_on_loan")
    LoanRule.objects.filter(library=reader.library).update(max_items=1, max_renewals=0)
    assert post("checkout", second.barcode) == (409, "loan_limit_reached")
    assert post("renew", first.barcode) == (409, "renewal_limit")
    elsewhere = make_item(sui_consignment, sui_branch, "NL7300013")
    assert post("return", elsewhere.barcode) == (409, "item_not_here")
    Patron.objects.filter(pk=other.pk).update(is_suspended=True)
    assert post("checkout", second.barcode, card=other.card_number) == (409, "patron_suspended")


def test_a_bad_field_names_the_field(api):
    response = api.post("/api/v1/circulation/return/", {"site": "SUIXIAN.central"}, format="json")
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid" and body["message"]
    assert body["fields"]["barcode"][0]["code"] == "required"


def test_something_out_of_scope_is_not_found_in_both_languages(api, zengdu_central):
    url = "/api/v1/sites/ZENGDU.central/"
    chinese = api.get(url)
    english = api.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 404
    assert chinese.json()["code"] == english.json()["code"] == "not_found"
    assert chinese.json()["message"] != english.json()["message"]
    assert english.json()["message"].isascii()


def test_an_unauthenticated_client_is_told_so():
    response = APIClient().get("/api/v1/items/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_a_nul_character_is_answered_not_stored(api, nlc):
    body = '{"lender": "NLC\\u0000", "reference": "R", "agreement_date": "2026-01-01"}'
    response = api.post("/api/v1/consignments/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert api.get("/api/v1/items/?barcode=A%00").status_code == 400
    assert api.get("/api/v1/sites/SUIXIAN.%00/").status_code == 404


def test_a_body_that_is_no_json_is_a_parse_error_in_the_callers_language(api):
    url = "/api/v1/circulation/return/"
    chinese = api.post(url, '{"site": ', content_type="application/json")
    english = api.post(url, '{"site": ', content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 400
    assert chinese.json()["code"] == english.json()["code"] == "parse_error"
    assert "JSON" in chinese.json()["message"] and not chinese.json()["message"].isascii()
    assert english.json()["message"].isascii() and "Expecting" not in english.json()["message"]


def documented(path, method):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return set(schema["paths"][path][method]["responses"])


def test_an_unsupported_accept_or_content_type_is_answered_and_documented(api, sui_item):
    refused = api.get(f"/api/v1/items/{sui_item.barcode}/", HTTP_ACCEPT="application/xml")
    assert refused.status_code == 406 and refused.json()["code"] == "not_acceptable"
    assert "406" in documented("/api/v1/items/{barcode}/", "get")
    unread = api.post("/api/v1/circulation/return/", "site=x", content_type="text/plain")
    assert unread.status_code == 415 and unread.json()["code"] == "unsupported_media_type"
    assert "415" in documented("/api/v1/circulation/return/", "post")


def test_a_browser_asking_for_html_gets_the_documented_406_not_drfs_pages(api, sui_item):
    for url in (f"/api/v1/items/{sui_item.barcode}/", "/api/v1/items/NOSUCHCODE/"):
        response = api.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 406, url
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_acceptable"
    refused = api.post(
        "/api/v1/circulation/return/",
        {"site": "SUIXIAN.central"},
        format="json",
        HTTP_ACCEPT="text/html",
    )
    assert refused.status_code == 406 and refused.json()["code"] == "not_acceptable"
    # A browser's usual Accept lists */* too: it gets JSON.
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = api.get(f"/api/v1/items/{sui_item.barcode}/", HTTP_ACCEPT=browser)
    assert page.status_code == 200 and page["Content-Type"] == "application/json"


def test_an_address_that_names_no_endpoint_is_a_json_404(sui_librarian):
    from accounts.tokens import api_token_create

    api = APIClient(enforce_csrf_checks=True)
    api.credentials(HTTP_AUTHORIZATION="Token " + api_token_create(user=sui_librarian, name="t")[1])
    for url in ("/api/v1/nothing/", "/api/v1/transfers/2.5e-175/cancel/", "/api/v1/items/a/b/"):
        response = api.post(url, {}, format="json")
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url
    assert api.get("/api/v1/items").status_code == 301


@pytest.mark.parametrize("url", ["/api/nothing/", "/api/", "/api/v2/items/", "/api/v2"])
def test_an_address_under_api_outside_v1_is_a_json_404_too(url, db):
    response = APIClient().get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "Not found."}


def test_a_server_error_in_the_api_is_a_json_500_in_the_callers_language(
    sui_librarian, monkeypatch
):
    from reports.api import ReportViewSet

    def broken(self, request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ReportViewSet, "loan_volume", broken)
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(sui_librarian)
    chinese = api.get("/api/v1/reports/loan-volume/")
    english = api.get("/api/v1/reports/loan-volume/", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 500
    assert chinese["Content-Type"] == english["Content-Type"] == "application/json"
    assert chinese.json()["code"] == english.json()["code"] == "server_error"
    assert "没有保存" in chinese.json()["message"] and english.json()["message"].isascii()


def test_a_page_outside_the_api_still_gets_the_sites_html_error_page(db):
    for url in ("/apis/", "/reports/api/"):
        assert "text/html" in Client().get(url)["Content-Type"]
