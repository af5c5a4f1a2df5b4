"""Book boxes travel as one; displays keep volumes at their site."""

from pathlib import Path

import pytest
from django.urls import reverse

from circulation.integrity import find_violations
from collections_app import services
from collections_app.errors import Refused
from collections_app.models import Box, Display, Item, ItemEvent
from collections_app.services.boxes import box_pack, box_send, box_unpack
from collections_app.services.displays import display_place, display_remove
from collections_app.services.items import item_transition
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_receive,
)
from conftest import make_item

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


@pytest.fixture
def box(suixian):
    return Box.objects.create(library=suixian, code="BOX-001", name="一号流动书箱")


@pytest.fixture
def books(sui_consignment, sui_central):
    return [make_item(sui_consignment, sui_central, f"NL5000000{n}") for n in range(3)]


def test_one_scan_of_the_box_label_receives_every_volume(
    sui_librarian, xiaolin_volunteer, xiaolin_site, box, books
):
    box_pack(user=sui_librarian, box=box, items=books)
    transfer = box_send(user=sui_librarian, box=box, destination=xiaolin_site)
    assert transfer.status == "dispatched" and transfer.lines.count() == 3
    receipt = transfer_receive(
        user=xiaolin_volunteer, transfer=transfer, site=xiaolin_site, barcodes=[box.code]
    )
    assert sorted(receipt.received) == sorted(b.barcode for b in books)
    assert receipt.completed
    assert set(Item.objects.filter(box=box).values_list("current_site", flat=True)) == {
        xiaolin_site.pk
    }


def test_a_box_with_a_lent_volume_does_not_leave(sui_librarian, xiaolin_site, box, books):
    box_pack(user=sui_librarian, box=box, items=books)
    Item.objects.filter(pk=books[0].pk).update(status="on_loan")
    with pytest.raises(Refused) as refused:
        box_send(user=sui_librarian, box=box, destination=xiaolin_site)
    assert refused.value.problems[0].where == books[0].barcode
    assert not Item.objects.filter(status="in_transit").exists()


def test_a_volume_belongs_to_one_box_only(sui_librarian, suixian, box, books):
    other = Box.objects.create(library=suixian, code="BOX-002", name="二号")
    box_pack(user=sui_librarian, box=box, items=books[:1])
    with pytest.raises(Refused):
        box_pack(user=sui_librarian, box=other, items=books[:1])


def test_packing_by_scan_in_the_page(client_for, sui_librarian, box, books):
    client = client_for(sui_librarian)
    url = reverse("collections:box-pack", args=[box.code])
    body = client.post(url, {"barcode": books[0].barcode}, **FETCH).json()
    assert body["ok"] and body["counts"]["volumes"] == 1
    assert not client.post(url, {"barcode": "NOPE"}, **FETCH).json()["ok"]


@pytest.fixture
def shelf_display(sui_central):
    return Display.objects.create(
        library=sui_central.library, site=sui_central, name="国图文献专架", starts_on="2026-01-01"
    )


def test_placing_on_a_display_keeps_each_status_in_the_history(sui_librarian, shelf_display, books):
    Item.objects.filter(pk=books[1].pk).update(status="on_loan")
    assert display_place(user=sui_librarian, display=shelf_display, items=books) == 3
    events = dict(
        ItemEvent.objects.filter(kind="displayed").values_list("item__barcode", "to_status")
    )
    assert events == {
        books[0].barcode: "available",
        books[1].barcode: "on_loan",
        books[2].barcode: "available",
    }
    display_remove(user=sui_librarian, display=shelf_display, items=books[:1])
    assert Item.objects.filter(display=shelf_display).count() == 2


def test_only_volumes_at_the_display_site_go_on_it(
    sui_librarian, shelf_display, sui_consignment, xiaolin_site
):
    elsewhere = make_item(sui_consignment, xiaolin_site, "NL59999999")
    with pytest.raises(Refused) as refused:
        display_place(user=sui_librarian, display=shelf_display, items=[elsewhere])
    assert "请先调拨过来" in refused.value.problems[0].message


def test_a_volunteer_cannot_manage_the_central_display(xiaolin_volunteer, shelf_display, books):
    with pytest.raises(Refused):
        display_place(user=xiaolin_volunteer, display=shelf_display, items=books)


def test_display_page_places_by_scan(client_for, sui_librarian, shelf_display, books):
    client = client_for(sui_librarian)
    url = reverse("collections:display-scan", args=[shelf_display.pk])
    body = client.post(url, {"barcode": books[2].barcode}, **FETCH).json()
    assert body["ok"] and body["counts"]["volumes"] == 1
    page = client.get(reverse("collections:display-detail", args=[shelf_display.pk]))
    assert books[2].barcode in page.content.decode()


def test_a_librarian_opens_a_display_and_a_bad_date_range_is_explained(
    client_for, sui_librarian, sui_central
):
    client = client_for(sui_librarian)
    url = reverse("collections:display-new")
    bad = client.post(
        url,
        {
            "site": sui_central.pk,
            "name": "精品展柜",
            "kind": "showcase",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
        },
    )
    assert "结束日期不能早于开始日期" in bad.content.decode()
    good = client.post(
        url,
        {"site": sui_central.pk, "name": "精品展柜", "kind": "showcase", "starts_on": "2026-05-01"},
    )
    display = Display.objects.get()
    assert good["Location"] == reverse("collections:display-detail", args=[display.pk])


def test_a_volunteer_cannot_open_a_display_at_the_central_library(
    client_for, xiaolin_volunteer, sui_central
):
    client_for(xiaolin_volunteer).post(
        reverse("collections:display-new"),
        {"site": sui_central.pk, "name": "专架", "kind": "shelf", "starts_on": "2026-05-01"},
    )
    assert not Display.objects.exists()


def recorded(*items):
    for item in items:
        item_transition(items=[item], kind=ItemEvent.Kind.RECEIVED)
    return items


def test_packing_and_unpacking_write_each_volume_history(sui_librarian, box, books):
    recorded(*books)
    assert box_pack(user=sui_librarian, box=box, items=books) == 3
    packed = ItemEvent.objects.filter(note__contains=box.code, kind="status_changed")
    assert packed.count() == 3
    assert {(e.from_status, e.to_status) for e in packed} == {("available", "available")}
    box_unpack(user=sui_librarian, box=box, items=books[:1])
    assert Item.objects.filter(box=box).count() == 2
    unpacked = ItemEvent.objects.filter(item=books[0]).order_by("-at", "-id").first()
    assert box.code in unpacked.note and unpacked.to_status == "available"
    assert find_violations() == []


def test_a_box_stands_on_one_site(sui_librarian, box, books, sui_consignment, xiaolin_site):
    """A librarian works at every site, so packing a 小林一中 volume into a box at the central
    library used to split the box across two sites."""
    box_pack(user=sui_librarian, box=box, items=books[:2])
    (far,) = recorded(make_item(sui_consignment, xiaolin_site, "NL58888888"))
    with pytest.raises(Refused) as refused:
        box_pack(user=sui_librarian, box=box, items=[far])
    assert "同一站点" in refused.value.problems[0].message
    assert far.pk not in Item.objects.filter(box=box).values_list("pk", flat=True)


def test_a_volume_on_a_transfer_or_a_box_on_its_way_is_not_packed(
    sui_librarian, suixian, box, books, sui_central, xiaolin_site
):
    draft = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )
    transfer_add_items(user=sui_librarian, transfer=draft, items=books[:1])
    with pytest.raises(Refused) as refused:
        box_pack(user=sui_librarian, box=box, items=books[:1])
    assert "调拨单" in refused.value.problems[0].message
    box_pack(user=sui_librarian, box=box, items=books[1:2])
    box_send(user=sui_librarian, box=box, destination=xiaolin_site)
    with pytest.raises(Refused):
        box_pack(user=sui_librarian, box=box, items=books[2:])
    with pytest.raises(Refused):
        box_unpack(user=sui_librarian, box=box)


def test_a_display_place_and_removal_leave_history_that_adds_up(
    sui_librarian, shelf_display, books
):
    recorded(*books)
    display_place(user=sui_librarian, display=shelf_display, items=books)
    display_remove(user=sui_librarian, display=shelf_display)
    kinds = list(
        ItemEvent.objects.filter(item=books[0]).order_by("at", "id").values_list("kind", flat=True)
    )
    assert kinds == ["received", "displayed", "undisplayed"]
    assert not Item.objects.filter(display=shelf_display).exists()
    assert find_violations() == []


@pytest.mark.parametrize(
    "module",
    ["transfers", "receiving", "displays", "boxes", "rotation", "arrivals", "suggestions"],
)
def test_moves_are_written_through_item_transition_only(module):
    source = (Path(services.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    assert "services.history" not in source
    assert "item_events_record" not in source
    assert ".update(status" not in source and ".update(box" not in source
    assert ".update(display" not in source
