"""Two desks at the same moment, on PostgreSQL with two real connections: exactly one wins."""

import threading
from functools import partial

import pytest
from django.db import connection, transaction

from collections_app.errors import Refused
from collections_app.models import Item, ItemEvent, Transfer, TransferLine
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
)
from conftest import make_item

ROUNDS = 10

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


def race(*actions):
    """Run the actions in threads released together; return 'ok' or 'refused' for each."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            action()
            outcomes[index] = "ok"
        except Refused:
            outcomes[index] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_drafts_claiming_one_item_at_once_leave_it_on_exactly_one(
    sui_librarian, sui_consignment, sui_central, sui_branch, xiaolin_site
):
    for attempt in range(ROUNDS):
        item = make_item(sui_consignment, sui_central, f"NL8{attempt:07}")
        drafts = [
            transfer_create(
                user=sui_librarian, source=sui_central, destination=to, reason="rotation"
            )
            for to in (sui_branch, xiaolin_site)
        ]
        outcomes = race(
            *[
                partial(transfer_add_items, user=sui_librarian, transfer=draft, items=[item])
                for draft in drafts
            ]
        )
        assert sorted(outcomes) == ["ok", "refused"]
        assert TransferLine.objects.filter(item=item, is_open=True).count() == 1


def test_the_same_transfer_dispatched_from_two_desks_goes_out_once(
    sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    for attempt in range(ROUNDS):
        items = [
            make_item(sui_consignment, sui_central, f"NL9{attempt:03}{n:04}") for n in range(20)
        ]
        draft = transfer_create(
            user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
        )
        transfer_add_items(user=sui_librarian, transfer=draft, items=items)
        dispatch = partial(transfer_dispatch, user=sui_librarian, transfer=draft)
        outcomes = race(dispatch, dispatch)
        assert sorted(outcomes) == ["ok", "refused"]
        assert ItemEvent.objects.filter(transfer=draft, kind="dispatched").count() == 20
        assert Transfer.objects.get(pk=draft.pk).status == "dispatched"


def lend(item_pk):
    """What the checkout service does to the item: lock, re-check, change."""
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item_pk)
        if item.status != "available":
            raise Refused("在途")
        Item.objects.filter(pk=item.pk).update(status="on_loan")


def test_a_dispatch_and_a_status_change_of_one_item_serialise(
    sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    """A desk lending the item (here: a locked status change, as the checkout service does)
    and a dispatch of a transfer holding it: the item ends either on loan or in transit,
    never both, and the dispatch is all or nothing."""
    for attempt in range(ROUNDS):
        items = [
            make_item(sui_consignment, sui_central, f"NL7{attempt:03}{n:04}") for n in range(5)
        ]
        draft = transfer_create(
            user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
        )
        transfer_add_items(user=sui_librarian, transfer=draft, items=items)

        outcomes = race(
            partial(lend, items[2].pk),
            partial(transfer_dispatch, user=sui_librarian, transfer=draft),
        )
        assert sorted(outcomes) == ["ok", "refused"]
        statuses = list(
            Item.objects.filter(pk__in=[i.pk for i in items]).values_list("status", flat=True)
        )
        if outcomes[0] == "ok":
            assert statuses.count("on_loan") == 1 and statuses.count("in_transit") == 0
        else:
            assert statuses == ["in_transit"] * 5
