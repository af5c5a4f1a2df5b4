"""The REST API reads through the same scope as the pages."""

import pytest
from rest_framework.test import APIClient

from accounts.tokens import api_token_create
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


@pytest.fixture
def api():
    return APIClient()


def test_the_api_needs_a_login(api, sui_item):
    assert api.get("/api/v1/items/").status_code in (401, 403)


def test_a_librarian_lists_only_their_own_items(api, sui_librarian, sui_item, zengdu_item):
    api.force_authenticate(sui_librarian)
    body = api.get("/api/v1/items/").json()
    assert [row["barcode"] for row in body["results"]] == [sui_item.barcode]
    assert body["results"][0]["owner"] == "NLC"
    assert body["results"][0]["current_site"] == "central"


def test_an_item_of_another_county_answers_404(api, sui_librarian, zengdu_item):
    api.force_authenticate(sui_librarian)
    assert api.get(f"/api/v1/items/{zengdu_item.barcode}/").status_code == 404


def test_a_site_is_addressed_by_library_and_site_code(api, hubei_reviewer, xiaolin_site):
    api.force_authenticate(hubei_reviewer)
    body = api.get("/api/v1/sites/SUIXIAN.xiaolin/").json()
    assert body["name"] == "小林一中"
    assert body["parent"] == "lijiadian"
    assert api.get("/api/v1/sites/SUIXIAN.nowhere/").status_code == 404


def test_a_token_authenticates_a_script(api, nlc_lender, sui_item, zengdu_item):
    _token, secret = api_token_create(user=nlc_lender, name="NLC", kind="read_only")
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    body = api.get("/api/v1/items/", {"library__code": "ZENGDU"}).json()
    assert [row["barcode"] for row in body["results"]] == [zengdu_item.barcode]


def test_items_filter_by_status_and_class(api, sui_librarian, sui_item, xiaolin_item):
    api.force_authenticate(sui_librarian)
    body = api.get("/api/v1/items/", {"title__clc_top": "I"}).json()
    assert [row["barcode"] for row in body["results"]] == [xiaolin_item.barcode]
    assert api.get("/api/v1/items/", {"status": "on_loan"}).json()["count"] == 0


def test_the_openapi_schema_and_its_docs_are_served_by_the_app(client, sui_librarian):
    client.force_login(sui_librarian)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/items/{barcode}/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs
    assert "cdn" not in docs.lower() and "https://" not in docs


def test_transfers_are_listed_with_their_lines_in_scope(
    api, sui_librarian, zengdu_librarian, sui_item, sui_central, sui_branch
):
    from collections_app.services.transfers import transfer_add_items, transfer_create

    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=sui_branch, reason="allocation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=[sui_item])
    api.force_authenticate(sui_librarian)
    body = api.get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert body["lines"] == [{"item": sui_item.barcode, "state": "pending"}]
    assert body["destination"] == "lijiadian"
    api.force_authenticate(zengdu_librarian)
    assert api.get(f"/api/v1/transfers/{transfer.pk}/").status_code == 404
