"""A display added in the admin belongs to its site's library: the form asks for the site, not
for a library that could disagree with it, and takes a date as a person types it."""

import pytest
from django.urls import reverse

from collections_app.models import Display

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "starts_on"),
    [("zh-hans", "2026-07-01"), ("zh-hans", "2026/07/01"), ("en", "2026-07-01")],
)
def test_a_display_added_in_the_admin_takes_its_sites_library(
    client, superuser, suixian, zengdu, xiaolin_site, language, starts_on
):
    client.force_login(superuser)
    client.cookies["django_language"] = language
    url = reverse("admin:collections_app_display_add")
    form = client.get(url).context["adminform"].form
    assert "library" not in form.fields and "site" in form.fields
    data = {
        "site": xiaolin_site.pk,
        "name": "国图文献专架",
        "kind": "shelf",
        "starts_on": starts_on,
    }
    response = client.post(url, {**data, "library": zengdu.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    display = Display.objects.get()
    assert (display.library, display.site, str(display.starts_on)) == (
        suixian,
        xiaolin_site,
        "2026-07-01",
    )
