"""The signed-in user, read again on every request (accounts/backends.py): one fixed statement in
place of Django's ORM lookup, nothing kept between requests, so that what changes an account
elsewhere counts on its next request."""

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import PATH, REPLACED, StaffBackend, user_by_id
from accounts.models import User
from sharedloan.sessions import SessionStore

JSON = {"HTTP_ACCEPT": "application/json"}


def _scan(client, site):
    url = reverse("circulation:desk-scan", args=[site.library.code, site.code])
    return client.post(url, {"mode": "checkout", "code": "SX000001"}, **JSON)


def _signed_in(response):
    return response.status_code != 302 or "login" not in response.url


def test_the_project_signs_in_through_the_staff_backend():
    assert settings.AUTHENTICATION_BACKENDS[-1] == PATH


def test_the_user_is_read_with_every_field_as_the_orm_reads_it(sui_librarian, xiaolin_site):
    sui_librarian.sites.add(xiaolin_site)
    read = user_by_id(str(sui_librarian.pk))
    expected = User.objects.get(pk=sui_librarian.pk)
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.library == sui_librarian.library
    assert list(read.sites.all()) == [xiaolin_site]
    assert user_by_id(sui_librarian.pk + 1000) is None


def test_a_request_reads_the_user_with_one_fixed_statement(client_for, xiaolin_volunteer):
    client = client_for(xiaolin_volunteer)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    table = User._meta.db_table
    reads = [q["sql"] for q in queries if f"FROM {table} WHERE" in q["sql"]]
    assert len(reads) == 1


def test_a_desk_signed_in_stays_signed_in(client_for, xiaolin_volunteer, xiaolin_site):
    client = client_for(xiaolin_volunteer)
    for _ in range(3):
        response = _scan(client, xiaolin_site)
        assert response.status_code == 200
        assert response.wsgi_request.user == xiaolin_volunteer


def test_a_password_changed_elsewhere_signs_the_desk_out_on_its_next_request(
    client_for, xiaolin_volunteer, xiaolin_site
):
    client = client_for(xiaolin_volunteer)
    assert _scan(client, xiaolin_site).status_code == 200
    xiaolin_volunteer.set_password("a-new-password-2026")
    xiaolin_volunteer.save()
    assert not _signed_in(_scan(client, xiaolin_site))


def test_a_deactivated_account_is_signed_out_on_its_next_request(
    client_for, xiaolin_volunteer, xiaolin_site
):
    client = client_for(xiaolin_volunteer)
    assert _scan(client, xiaolin_site).status_code == 200
    User.objects.filter(pk=xiaolin_volunteer.pk).update(is_active=False)
    assert not _signed_in(_scan(client, xiaolin_site))


def test_a_role_changed_elsewhere_counts_on_the_next_request(
    client_for, sui_librarian, xiaolin_site, hubei
):
    client = client_for(sui_librarian)
    assert _scan(client, xiaolin_site).status_code == 200
    # Made a provincial reviewer: the county's desk is theirs to read, not to work.
    User.objects.filter(pk=sui_librarian.pk).update(role=User.Role.PROVINCIAL, library=hubei)
    assert _scan(client, xiaolin_site).status_code == 403
    # Made site staff of no site: the desk is out of their scope.
    User.objects.filter(pk=sui_librarian.pk).update(
        role=User.Role.SITE_STAFF, library=xiaolin_site.library
    )
    assert _scan(client, xiaolin_site).status_code == 404


def test_a_site_taken_from_a_volunteer_counts_on_the_next_request(
    client_for, xiaolin_volunteer, xiaolin_site
):
    client = client_for(xiaolin_volunteer)
    assert _scan(client, xiaolin_site).status_code == 200
    xiaolin_volunteer.sites.clear()
    assert _scan(client, xiaolin_site).status_code == 404


def test_a_deleted_account_signs_nobody_in(client_for, xiaolin_volunteer, xiaolin_site):
    client = client_for(xiaolin_volunteer)
    assert _scan(client, xiaolin_site).status_code == 200
    assert StaffBackend().get_user(xiaolin_volunteer.pk) is not None
    xiaolin_volunteer.sites.clear()
    User.objects.filter(pk=xiaolin_volunteer.pk).delete()
    assert StaffBackend().get_user(xiaolin_volunteer.pk) is None
    assert not _signed_in(_scan(client, xiaolin_site))


def test_a_session_signed_in_through_djangos_own_backend_stays_signed_in(
    client, xiaolin_volunteer, xiaolin_site
):
    # Signed in before StaffBackend replaced ModelBackend: the session names the old backend.
    client.force_login(xiaolin_volunteer, backend=PATH)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    session = Session.objects.get(session_key=key)
    data = session.get_decoded()
    assert data[BACKEND_SESSION_KEY] == PATH
    data[BACKEND_SESSION_KEY] = REPLACED
    Session.objects.filter(session_key=key).update(session_data=SessionStore().encode(data))
    response = _scan(client, xiaolin_site)
    assert response.status_code == 200
    assert response.wsgi_request.user == xiaolin_volunteer
