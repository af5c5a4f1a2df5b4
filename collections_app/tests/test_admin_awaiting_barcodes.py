"""Copies awaiting barcodes, added in the admin, belong to their consignment's library: the form
asks for the consignment and a title of that library, not for a library that could disagree."""

import pytest
from django.urls import reverse

from collections_app.models import AwaitingBarcodes, Title

pytestmark = pytest.mark.django_db


def test_copies_added_in_the_admin_take_their_consignments_library(
    client, superuser, suixian, zengdu, sui_consignment
):
    title = Title.objects.create(library=suixian, title="乡土中国")
    client.force_login(superuser)
    url = reverse("admin:collections_app_awaitingbarcodes_add")
    assert "library" not in client.get(url).context["adminform"].form.fields
    data = {"consignment": sui_consignment.pk, "title": title.pk, "copies": 3}
    response = client.post(url, {**data, "library": zengdu.pk})
    assert response.status_code == 302
    assert AwaitingBarcodes.objects.get().library == suixian


def test_a_title_of_another_library_is_refused_in_words(client, superuser, zengdu, sui_consignment):
    title = Title.objects.create(library=zengdu, title="乡土中国")
    client.force_login(superuser)
    url = reverse("admin:collections_app_awaitingbarcodes_add")
    data = {"consignment": sui_consignment.pk, "title": title.pk, "copies": 3}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "这条书目属于另一家图书馆" in response.content.decode()
    assert not AwaitingBarcodes.objects.exists()
