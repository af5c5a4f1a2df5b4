"""The interface language is the user's choice, never the browser's Accept-Language: a user who
never chose sees Chinese, a choice is saved on the account, follows them to another browser
and is applied when they sign in."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def lang(response):
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


def test_a_browser_asking_for_english_still_gets_chinese_before_any_choice(
    client, client_for, sui_librarian
):
    assert lang(client.get(reverse("accounts:login"), **ENGLISH_BROWSER)) == "zh-hans"
    client = client_for(sui_librarian)
    response = client.get(reverse("circulation:home"), **ENGLISH_BROWSER)
    assert lang(response) == "zh-hans"
    assert "Accept-Language" not in response.get("Vary", "")


def test_a_choice_is_saved_on_the_account_and_follows_the_user(client_for, sui_librarian):
    from django.test import Client

    client = client_for(sui_librarian)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    sui_librarian.refresh_from_db()
    assert sui_librarian.language == "en"
    assert lang(client.get(reverse("circulation:home"))) == "en"

    # Another browser, without the cookie: the account's choice.
    elsewhere = Client()
    elsewhere.force_login(sui_librarian)
    assert lang(elsewhere.get(reverse("circulation:home"))) == "en"

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    sui_librarian.refresh_from_db()
    assert sui_librarian.language == "zh-hans"


def test_signing_in_applies_the_users_choice_over_the_last_users_cookie(client, suixian):
    User.objects.create_user(
        username="english",
        password="correct-horse-battery",
        library=suixian,
        role=User.Role.LIBRARIAN,
        language="en",
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post(
        reverse("accounts:login"),
        {"username": "english", "password": "correct-horse-battery"},
    )
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert lang(client.get(reverse("circulation:home"))) == "en"


def test_a_user_who_never_chose_keeps_chinese_at_sign_in(client, sui_librarian):
    response = client.post(
        reverse("accounts:login"),
        {"username": "suixian", "password": "correct-horse-battery"},
        **ENGLISH_BROWSER,
    )
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert lang(client.get(reverse("circulation:home"), **ENGLISH_BROWSER)) == "zh-hans"


def test_an_unknown_language_cookie_falls_back_to_chinese(client_for, sui_librarian):
    client = client_for(sui_librarian)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert lang(client.get(reverse("circulation:home"), **ENGLISH_BROWSER)) == "zh-hans"


@pytest.mark.django_db
def test_an_api_client_gets_the_language_it_asks_for_and_chinese_otherwise(client):
    url = "/api/v1/libraries/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["message"]
    chinese = client.get(url).json()["message"]
    assert english.startswith("Authentication credentials")
    assert re.search(r"[\u4e00-\u9fff]", chinese)
