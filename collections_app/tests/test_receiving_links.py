"""A consignment's page links only to the receiving pages its user may open: a volunteer of a
service point (the scan and sign-off pages answer 404 to them) sees the consignment without
those links; staff of the central library and the county librarian follow them."""

import pytest
from django.urls import reverse

from collections_app.tests.test_receiving_views import (  # noqa: F401  (fixtures)
    announced,
    central_volunteer,
    receiving,
)

pytestmark = pytest.mark.django_db


def receiving_links(client, consignment):
    detail = client.get(reverse("collections:consignment-detail", args=[consignment.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    links = {
        name: reverse(f"collections:consignment-{name}", args=[consignment.pk])
        for name in ("scan", "sign-off")
    }
    return {name for name, link in links.items() if f'href="{link}"' in html}, links


@pytest.mark.parametrize(
    "actor, offered",
    [
        ("xiaolin_volunteer", set()),
        ("central_volunteer", {"scan", "sign-off"}),
        ("sui_librarian", {"scan", "sign-off"}),
        ("hubei_reviewer", {"sign-off"}),
    ],
)
def test_a_consignment_links_only_to_the_receiving_pages_its_user_may_open(
    client_for,
    request,
    receiving,  # noqa: F811
    actor,
    offered,
):
    client = client_for(request.getfixturevalue(actor))
    shown, links = receiving_links(client, receiving)
    assert shown >= offered
    for name in shown:
        assert client.get(links[name]).status_code == 200, name
    for name in set(links) - shown:
        assert client.get(links[name]).status_code in (403, 404), name
