"""A box's page offers packing, sending and unpacking to exactly those who may do them
(accounts.scope.can_work_with_box): what it shows is accepted, what it hides answers 403. The
superuser used to be shown all three and refused each: it has no library, so no desk."""

import pytest
from django.urls import reverse

from collections_app.models import Box
from collections_app.services.boxes import box_pack
from conftest import make_item

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
ACTIONS = ("box-pack", "box-send", "box-unpack")


@pytest.fixture
def box(suixian):
    return Box.objects.create(library=suixian, code="BOX-001", name="一号流动书箱")


def offered(client, box):
    html = client.get(reverse("collections:box-detail", args=[box.code])).content.decode()
    return {name for name in ACTIONS if reverse(f"collections:{name}", args=[box.code]) in html}


def refused(client, box, barcode):
    """The actions the server refuses outright (403, or 404 for a box outside the user's scope);
    the others may still refuse the state of the box."""
    posts = {
        "box-pack": ({"barcode": barcode}, FETCH),
        "box-send": ({"destination": ""}, {}),
        "box-unpack": ({}, {}),
    }
    return {
        name
        for name, (data, headers) in posts.items()
        if client.post(reverse(f"collections:{name}", args=[box.code]), data, **headers).status_code
        in (403, 404)
    }


@pytest.mark.parametrize("packed_at", ["sui_central", "xiaolin_site", None])
@pytest.mark.parametrize(
    "actor", ["superuser", "sui_librarian", "xiaolin_volunteer", "hubei_reviewer", "nlc_lender"]
)
def test_a_box_page_offers_the_actions_the_server_accepts_and_no_other(
    client_for, request, actor, packed_at, box, sui_consignment, sui_librarian, sui_central
):
    loose = make_item(sui_consignment, sui_central, "NL50000009")
    if packed_at is not None:
        site = request.getfixturevalue(packed_at)
        box_pack(user=sui_librarian, box=box, items=[make_item(sui_consignment, site, "NL5001")])
    client = client_for(request.getfixturevalue(actor))
    shown = offered(client, box)
    assert shown in (set(), set(ACTIONS))
    assert refused(client, box, loose.barcode) == set(ACTIONS) - shown


def test_the_superuser_sees_a_box_without_its_desk_actions(client_for, superuser, box):
    assert offered(client_for(superuser), box) == set()


def test_the_librarian_and_the_volunteer_at_the_box_site_get_the_actions(
    client_for, sui_librarian, xiaolin_volunteer, box, sui_consignment, xiaolin_site
):
    box_pack(
        user=sui_librarian, box=box, items=[make_item(sui_consignment, xiaolin_site, "NL5001")]
    )
    assert offered(client_for(sui_librarian), box) == set(ACTIONS)
    assert offered(client_for(xiaolin_volunteer), box) == set(ACTIONS)
