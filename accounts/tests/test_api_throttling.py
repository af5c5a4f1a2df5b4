"""API throttles: anonymous callers and token holders are each held to a rate (DRF throttles),
generous enough for a self-check machine, so a leaked token or a loop cannot flood the server."""

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.tokens import api_token_create
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


@pytest.fixture
def tiny_rates(monkeypatch):
    """Two requests a minute, read by the throttles when they are built (DRF caches its
    settings, and THROTTLE_RATES is a class attribute taken at import)."""
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    yield
    cache.clear()


def test_the_api_is_throttled_for_anonymous_callers_and_token_holders_by_default():
    assert api_settings.DEFAULT_THROTTLE_CLASSES
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "anon": "30/min",
        "user": "600/min",
    }


def test_an_anonymous_caller_past_the_rate_gets_429(client, db, tiny_rates):
    codes = [client.get("/api/docs/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_token_past_the_rate_gets_429_and_another_token_is_not_held(
    sui_librarian, zengdu_librarian, tiny_rates
):
    api = APIClient()
    _token, secret = api_token_create(user=sui_librarian, name="desk")
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    codes = [api.get("/api/v1/items/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert "Retry-After" in api.get("/api/v1/items/")

    other = APIClient()
    _token, secret = api_token_create(user=zengdu_librarian, name="desk")
    other.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert other.get("/api/v1/items/").status_code == 200
