"""Volumes scanned at a transfer's destination that are not on it (多出): they arrive only when
the receiver could see them, on the shelf, on no other open transfer, not kept for a reader, and
with their whole book box; every refusal says why, and the data still adds up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from circulation.integrity import find_violations
from circulation.models import Hold, Patron
from collections_app.models import Box, Item, ItemEvent, TransferLine
from collections_app.services.boxes import box_pack
from collections_app.services.items import item_transition
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from conftest import make_item


def recorded(*items):
    """Items as an import leaves them: each with its first history row."""
    for item in items:
        item_transition(items=[item], kind=ItemEvent.Kind.RECEIVED)
    return items


@pytest.fixture
def on_the_way(sui_librarian, sui_consignment, sui_central, xiaolin_site):
    """A transfer from the central library to 小林一中, dispatched with one volume."""
    (book,) = recorded(make_item(sui_consignment, sui_central, "NL60000001"))
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=[book])
    return transfer_dispatch(user=sui_librarian, transfer=transfer)


def stray(consignment, site, barcode="NL69999999", **fields):
    (item,) = recorded(make_item(consignment, site, barcode, **fields))
    return item


def problem_for(receipt, barcode):
    return next(str(p.message) for p in receipt.problems if p.where == barcode)


def test_a_librarian_takes_in_a_free_volume_as_extra(
    on_the_way, sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    extra = stray(sui_consignment, sui_central)
    receipt = transfer_receive(
        user=sui_librarian,
        transfer=on_the_way,
        site=xiaolin_site,
        barcodes=["NL60000001", extra.barcode],
    )
    assert receipt.extra == [extra.barcode] and receipt.problems == []
    extra.refresh_from_db()
    assert (extra.status, extra.current_site) == ("available", xiaolin_site)
    assert TransferLine.objects.get(item=extra).state == "extra"
    assert find_violations() == []


def test_site_staff_cannot_take_in_a_volume_they_cannot_see(
    on_the_way, xiaolin_volunteer, sui_consignment, sui_branch, xiaolin_site
):
    """小林一中's volunteer sees only the volumes at 小林一中: one at 厉山分馆 answers 404 on its
    page, so the receipt may not pull it over either."""
    elsewhere = stray(sui_consignment, sui_branch)
    receipt = transfer_receive(
        user=xiaolin_volunteer,
        transfer=on_the_way,
        site=xiaolin_site,
        barcodes=["NL60000001", elsewhere.barcode],
    )
    assert receipt.received == ["NL60000001"] and receipt.extra == []
    assert "无权查看" in problem_for(receipt, elsewhere.barcode)
    # Nothing about the volume is told: not its site, not its title.
    assert "厉山" not in problem_for(receipt, elsewhere.barcode)
    elsewhere.refresh_from_db()
    assert elsewhere.current_site == sui_branch
    assert not TransferLine.objects.filter(item=elsewhere).exists()
    assert find_violations() == []


def test_a_volume_on_another_open_transfer_is_refused_with_its_number(
    on_the_way, sui_librarian, sui_consignment, sui_central, sui_branch, xiaolin_site
):
    waiting = stray(sui_consignment, sui_central)
    draft = transfer_create(
        user=sui_librarian, source=sui_central, destination=sui_branch, reason="rotation"
    )
    transfer_add_items(user=sui_librarian, transfer=draft, items=[waiting])
    receipt = transfer_receive(
        user=sui_librarian,
        transfer=on_the_way,
        site=xiaolin_site,
        barcodes=[waiting.barcode],
    )
    assert receipt.extra == []
    assert f"#{draft.pk}" in problem_for(receipt, waiting.barcode)
    waiting.refresh_from_db()
    assert waiting.current_site == sui_central
    # Its line on the draft is not stranded: it is still the one open line of the volume.
    assert TransferLine.objects.get(item=waiting, is_open=True).transfer_id == draft.pk
    assert find_violations() == []


def test_a_boxed_volume_arrives_only_with_its_whole_box(
    on_the_way, sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    box = Box.objects.create(library=sui_central.library, code="BX0601", name="小林书箱")
    books = [stray(sui_consignment, sui_central, f"NL6100000{n}") for n in range(3)]
    box_pack(user=sui_librarian, box=box, items=books)

    one = transfer_receive(
        user=sui_librarian, transfer=on_the_way, site=xiaolin_site, barcodes=[books[0].barcode]
    )
    assert one.extra == []
    assert "BX0601" in problem_for(one, books[0].barcode)
    assert "整箱" in problem_for(one, books[0].barcode)
    assert set(Item.objects.filter(box=box).values_list("current_site", flat=True)) == {
        sui_central.pk
    }
    assert find_violations() == []

    whole = transfer_receive(
        user=sui_librarian, transfer=on_the_way, site=xiaolin_site, barcodes=["BX0601"]
    )
    assert sorted(whole.extra) == sorted(b.barcode for b in books)
    assert set(Item.objects.filter(box=box).values_list("current_site", flat=True)) == {
        xiaolin_site.pk
    }
    assert find_violations() == []


def test_a_box_with_one_volume_that_cannot_come_stays_whole(
    on_the_way, sui_librarian, sui_consignment, sui_central, sui_branch, xiaolin_site
):
    box = Box.objects.create(library=sui_central.library, code="BX0602", name="神农书箱")
    books = [stray(sui_consignment, sui_central, f"NL6200000{n}") for n in range(3)]
    box_pack(user=sui_librarian, box=box, items=books)
    draft = transfer_create(
        user=sui_librarian, source=sui_central, destination=sui_branch, reason="rotation"
    )
    transfer_add_items(user=sui_librarian, transfer=draft, items=books)
    receipt = transfer_receive(
        user=sui_librarian,
        transfer=on_the_way,
        site=xiaolin_site,
        barcodes=[b.barcode for b in books],
    )
    assert receipt.extra == [] and len(receipt.problems) == 3
    assert set(Item.objects.filter(box=box).values_list("current_site", flat=True)) == {
        sui_central.pk
    }
    assert find_violations() == []


def test_a_copy_trapped_for_a_reader_stays_at_the_pickup_site(
    on_the_way, sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    kept = stray(sui_consignment, sui_central)
    reader = Patron.objects.create(
        library=sui_central.library,
        card_number="SX060001",
        name="周敏",
        category=Patron.Category.ADULT,
        home_site=sui_central,
    )
    now = timezone.now()
    Hold.objects.create(
        library=sui_central.library,
        patron=reader,
        title=kept.title,
        pickup_site=sui_central,
        status=Hold.Status.TRAPPED,
        item=kept,
        trapped_at=now,
        expires_at=now + timedelta(days=30),
    )
    receipt = transfer_receive(
        user=sui_librarian, transfer=on_the_way, site=xiaolin_site, barcodes=[kept.barcode]
    )
    assert receipt.extra == []
    reason = problem_for(receipt, kept.barcode)
    assert "预约" in reason and sui_central.name in reason
    kept.refresh_from_db()
    assert kept.current_site == sui_central
    assert find_violations() == []


@pytest.mark.parametrize("status", ["on_loan", "missing", "withdrawn", "damaged"])
def test_a_volume_off_the_shelf_is_refused_with_its_status(
    on_the_way, sui_librarian, sui_consignment, sui_central, xiaolin_site, status
):
    gone = stray(sui_consignment, sui_central)
    item_transition(items=[gone], kind=ItemEvent.Kind.STATUS_CHANGED, to_status=status)
    receipt = transfer_receive(
        user=sui_librarian, transfer=on_the_way, site=xiaolin_site, barcodes=[gone.barcode]
    )
    assert receipt.extra == []
    assert problem_for(receipt, gone.barcode)
    gone.refresh_from_db()
    assert (gone.status, gone.current_site) == (status, sui_central)
