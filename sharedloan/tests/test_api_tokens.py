"""API tokens: each user makes, names and revokes their own on a page; the secret is shown once
and only its hash is kept; a read-only token reads and is refused every write."""

import hashlib

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import api_token_create
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


def token_client(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_a_librarian_makes_a_token_on_the_page_and_sees_its_secret_once(client_for, sui_librarian):
    client = client_for(sui_librarian)
    page = client.get(reverse("accounts:api-tokens"))
    assert page.status_code == 200
    response = client.post(
        reverse("accounts:api-tokens"), {"name": "自助借还机 1 号", "kind": "full"}
    )
    assert response.status_code == 201
    secret = response.context["secret"]
    assert secret in response.content.decode()
    token = ApiToken.objects.get(user=sui_librarian)
    assert token.name == "自助借还机 1 号"
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.prefix, token.digest, token.name}
    again = client.get(reverse("accounts:api-tokens")).content.decode()
    assert secret not in again and token.prefix in again


def test_the_token_page_is_in_everyones_navigation(client_for, sui_librarian, nlc_lender):
    for user in (sui_librarian, nlc_lender):
        html = client_for(user).get(reverse("circulation:home")).content.decode()
        assert reverse("accounts:api-tokens") in html


def test_a_token_authenticates_and_its_last_use_is_shown(client_for, sui_librarian, sui_item):
    token, secret = api_token_create(user=sui_librarian, name="desk")
    assert token.last_used_at is None
    response = token_client(secret).get("/api/v1/items/")
    assert response.status_code == 200
    assert [row["barcode"] for row in response.json()["results"]] == [sui_item.barcode]
    token.refresh_from_db()
    assert token.last_used_at is not None
    html = client_for(sui_librarian).get(reverse("accounts:api-tokens")).content.decode()
    assert "从未使用" not in html


def test_a_revoked_or_wrong_token_is_refused(client_for, sui_librarian, sui_item):
    token, secret = api_token_create(user=sui_librarian, name="desk")
    client = client_for(sui_librarian)
    response = client.post(reverse("accounts:api-token-revoke", args=[token.pk]))
    assert response.status_code == 302
    client.logout()
    for key in (secret, secret + "x", "0" * 40):
        answer = token_client(key).get("/api/v1/items/")
        assert answer.status_code == 401
        assert answer.json()["code"] == "authentication_failed"


def test_nobody_revokes_another_users_token(client_for, sui_librarian, zengdu_librarian):
    token, secret = api_token_create(user=sui_librarian, name="desk")
    response = client_for(zengdu_librarian).post(
        reverse("accounts:api-token-revoke", args=[token.pk])
    )
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_read_only_roles_may_only_make_read_only_tokens(client_for, nlc_lender, hubei_reviewer):
    for user in (nlc_lender, hubei_reviewer):
        client = client_for(user)
        refused = client.post(reverse("accounts:api-tokens"), {"name": "x", "kind": "full"})
        assert refused.status_code == 200 and refused.context["form"].errors["kind"]
        made = client.post(reverse("accounts:api-tokens"), {"name": "x", "kind": "read_only"})
        assert made.status_code == 201
        assert ApiToken.objects.get(user=user).kind == ApiToken.Kind.READ_ONLY


def test_a_read_only_token_reads_but_any_write_is_403(sui_librarian, sui_item, sui_central):
    _token, secret = api_token_create(user=sui_librarian, name="report", kind="read_only")
    client = token_client(secret)
    assert client.get(f"/api/v1/items/{sui_item.barcode}/").status_code == 200
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            "/api/v1/circulation/return/",
            {"site": "SUIXIAN.central", "barcode": sui_item.barcode},
            format="json",
        )
        assert response.status_code == 403, method
        assert response.json()["code"] == "read_only_token"


def test_the_command_prints_a_working_secret_and_refuses_what_the_page_refuses(
    capsys, sui_librarian, nlc_lender, sui_item
):
    call_command("create_api_token", "suixian", "--name", "script")
    secret = capsys.readouterr().out.strip()
    assert token_client(secret).get("/api/v1/items/").status_code == 200
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_token", "nlc")
    call_command("create_api_token", "nlc", "--read-only")
    assert ApiToken.objects.filter(user=nlc_lender, kind="read_only").count() == 1
