"""The session store (sharedloan/sessions.py): Django's database sessions, read with one fixed
SQL string. A signed-in browser stays signed in; an expired, unknown or signed-out session
signs nobody in."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from sharedloan.sessions import SessionStore


def test_the_project_uses_this_session_store():
    assert settings.SESSION_ENGINE == "sharedloan.sessions"


def test_a_signed_in_browser_stays_signed_in(client, sui_librarian):
    client.force_login(sui_librarian)
    response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.user == sui_librarian


def test_a_session_reads_back_what_was_saved(db):
    store = SessionStore()
    store["desk"] = 7
    store.create()
    again = SessionStore(store.session_key)
    assert again["desk"] == 7
    assert again.session_key == store.session_key


def test_an_expired_session_signs_nobody_in(client, sui_librarian):
    client.force_login(sui_librarian)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302 and "login" in response.url
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None  # dropped: a new key is made when the session is saved


def test_an_unknown_session_key_signs_nobody_in(client, db):
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = client.get("/")
    assert response.status_code == 302 and "login" in response.url


def test_signing_out_ends_the_session(client, sui_librarian):
    client.force_login(sui_librarian)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    response = client.get("/")
    assert response.status_code == 302 and "login" in response.url
