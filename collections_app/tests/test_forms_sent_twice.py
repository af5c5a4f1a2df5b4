"""Every create form sent twice with the same one-time key makes one row: the second answer is a
redirect to what the first one made, with a message, never a duplicate and never a 500. Unique
values (a box code, closed days) are refused or skipped with a message."""

import re

import pytest
from django.urls import reverse

from accounts.models import FormSubmission
from circulation.models import ClosedDay, Patron
from collections_app.models import Box, Consignment, Display, RotationPlan, Transfer


def rendered_key(client, url) -> str:
    page = client.get(url).content.decode()
    match = re.search(r'name="submission" value="([0-9a-f]{32})"', page)
    assert match, "the create form carries a one-time key"
    return match.group(1)


def send_twice(client, url, data):
    data = {**data, "submission": rendered_key(client, url)}
    first = client.post(url, data)
    second = client.post(url, data, follow=True)
    assert first.status_code == 302, first.content.decode()[:2000]
    assert second.redirect_chain[0][0] == first["Location"]
    assert "已经提交过了" in second.content.decode()
    return first


@pytest.fixture
def librarian(client_for, sui_librarian):
    return client_for(sui_librarian)


def test_a_transfer_form_sent_twice_makes_one_transfer(librarian, sui_central, xiaolin_site):
    send_twice(
        librarian,
        reverse("collections:transfer-new"),
        {"source": sui_central.pk, "destination": xiaolin_site.pk, "reason": "allocation"},
    )
    assert Transfer.objects.count() == 1


def test_a_display_form_sent_twice_makes_one_display(librarian, sui_central):
    send_twice(
        librarian,
        reverse("collections:display-new"),
        {"site": sui_central.pk, "name": "国图专架", "kind": "shelf", "starts_on": "2026-01-01"},
    )
    assert Display.objects.count() == 1


def test_a_box_form_sent_twice_makes_one_box(librarian):
    send_twice(librarian, reverse("collections:box-list"), {"code": "BOX-100", "name": "一百号"})
    assert Box.objects.count() == 1


def test_a_box_code_in_use_is_refused_with_a_message_not_a_500(librarian, suixian):
    Box.objects.create(library=suixian, code="BOX-100", name="一百号")
    response = librarian.post(
        reverse("collections:box-list"), {"code": "BOX-100", "name": "又一个"}
    )
    assert response.status_code == 200
    assert "已被使用" in response.content.decode()
    assert Box.objects.count() == 1


def test_a_rotation_plan_form_sent_twice_makes_one_plan(librarian, sui_central, xiaolin_site):
    send_twice(
        librarian,
        reverse("collections:rotation-new"),
        {
            "name": "小林循环",
            "is_cyclical": "on",
            "demand_loans": 3,
            "is_active": "on",
            "stops-TOTAL_FORMS": 2,
            "stops-INITIAL_FORMS": 0,
            "stops-0-site": sui_central.pk,
            "stops-0-stay_days": 30,
            "stops-1-site": xiaolin_site.pk,
            "stops-1-stay_days": 30,
        },
    )
    assert RotationPlan.objects.count() == 1


def test_a_consignment_announced_twice_is_one_consignment(librarian, nlc, sui_central):
    send_twice(
        librarian,
        reverse("collections:consignment-announce"),
        {"lender": nlc.pk, "reference": "NLC-2026-SX", "agreement_date": "2026-03-01"},
    )
    assert Consignment.objects.filter(reference="NLC-2026-SX").count() == 1


def test_a_reader_registered_twice_is_one_reader(librarian, sui_central):
    send_twice(
        librarian,
        reverse("circulation:patron-create"),
        {
            "card_number": "R1001",
            "name": "王小明",
            "category": "adult",
            "home_site": sui_central.pk,
        },
    )
    assert Patron.objects.filter(card_number="R1001").count() == 1


def test_closed_days_sent_twice_are_marked_once(librarian, suixian):
    url = reverse("circulation:closed-days")
    data = {"first": "2026-10-01", "last": "2026-10-07", "reason": "国庆"}
    assert librarian.post(url, data).status_code == 302
    assert librarian.post(url, data).status_code == 302
    assert ClosedDay.objects.filter(library=suixian).count() == 7


def test_a_refused_create_leaves_its_key_free_for_the_corrected_form(
    librarian, sui_central, suixian
):
    Box.objects.create(library=suixian, code="BOX-100", name="一百号")
    url = reverse("collections:box-list")
    key = rendered_key(librarian, url)
    librarian.post(url, {"code": "BOX-100", "name": "重号", "submission": key})
    assert not FormSubmission.objects.exists()
    fixed = librarian.post(url, {"code": "BOX-101", "name": "一百零一号", "submission": key})
    assert fixed.status_code == 302 and Box.objects.filter(code="BOX-101").exists()


def test_each_rendering_draws_a_new_key(librarian):
    url = reverse("collections:transfer-new")
    assert rendered_key(librarian, url) != rendered_key(librarian, url)


def test_a_form_without_a_key_still_works(librarian, sui_central, xiaolin_site):
    data = {"source": sui_central.pk, "destination": xiaolin_site.pk, "reason": "allocation"}
    librarian.post(reverse("collections:transfer-new"), data)
    assert Transfer.objects.count() == 1


def test_suggestions_accepted_twice_make_one_transfer(
    librarian, sui_consignment, sui_central, xiaolin_site
):
    from conftest import make_item

    for n in range(4):
        make_item(sui_consignment, sui_central, f"NL6300000{n}")
    move = f"{sui_central.pk}:{xiaolin_site.pk}:C:2:1"
    data = {"move": [move], "submission": "f" * 32}
    url = reverse("collections:suggestions-accept")
    assert librarian.post(url, data).status_code == 302
    second = librarian.post(url, data, follow=True)
    assert "已经提交过了" in second.content.decode()
    assert Transfer.objects.count() == 1 and Transfer.objects.get().lines.count() == 2


def test_a_fill_form_sent_twice_adds_its_volumes_once(
    librarian, sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    from collections_app.services.transfers import transfer_create
    from conftest import make_item

    for n in range(6):
        make_item(sui_consignment, sui_central, f"NL6400000{n}")
    draft = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )
    detail = reverse("collections:transfer-detail", args=[draft.pk])
    key = rendered_key(librarian, detail)
    url = reverse("collections:transfer-fill", args=[draft.pk])
    librarian.post(url, {"count": 2, "submission": key})
    second = librarian.post(url, {"count": 2, "submission": key}, follow=True)
    assert "已经提交过了" in second.content.decode()
    assert draft.lines.count() == 2
