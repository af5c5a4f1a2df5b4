"""A provincial library has no province above it: the admin's form says so in words, in the
page's language, instead of naming the database constraint that refuses it."""

import pytest
from django.urls import reverse

from collections_app.tests.test_admin import change_form_data

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "省级图书馆没有所属的省级图书馆"),
        ("en", "A provincial library belongs to no provincial library"),
    ],
)
def test_a_provincial_library_given_a_province_is_refused_in_words(
    client, superuser, hubei, language, words
):
    client.force_login(superuser)
    client.cookies["django_language"] = language
    url = reverse("admin:collections_app_library_change", args=[hubei.pk])
    response = client.post(url, change_form_data(client, url, province=hubei.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert words in html
    assert "provincial_library_has_no_province" not in html
    hubei.refresh_from_db()
    assert hubei.province is None
