"""Two desks at the same moment, on PostgreSQL with two real connections: exactly one wins,
the other is refused in words (never an IntegrityError, never a 500), and the data adds up."""

import io
import threading
from datetime import timedelta
from functools import partial

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from circulation.integrity import find_violations
from circulation.models import Loan, LoanRule, Patron
from circulation.services.loans import loan_checkout
from collections_app.errors import Refused
from collections_app.models import (
    Item,
    ItemEvent,
    RotationMember,
    RotationPlan,
    RotationStop,
    Transfer,
    TransferLine,
)
from collections_app.services.items import item_transition
from collections_app.services.rotation import rotation_add
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_cancel,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from conftest import make_item

ROUNDS = 20

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
        except Exception as error:  # what a page would answer with a 500
            outcomes[index] = type(error).__name__
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


def recorded(consignment, site, barcode):
    """A volume on the shelf with its first history row, as an import leaves it."""
    item = make_item(consignment, site, barcode)
    item_transition(items=[item], kind=ItemEvent.Kind.RECEIVED)
    return item


def test_a_receipt_racing_a_cancel_of_the_same_transfer_does_one_or_the_other(
    sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    for attempt in range(ROUNDS):
        items = [recorded(sui_consignment, sui_central, f"NL6{attempt:03}{n:04}") for n in range(5)]
        transfer = transfer_create(
            user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
        )
        transfer_add_items(user=sui_librarian, transfer=transfer, items=items)
        transfer_dispatch(user=sui_librarian, transfer=transfer)
        outcomes = race(
            partial(
                transfer_receive,
                user=sui_librarian,
                transfer=transfer,
                site=xiaolin_site,
                barcodes=[item.barcode for item in items],
            ),
            partial(transfer_cancel, user=sui_librarian, transfer=transfer),
        )
        assert sorted(outcomes) == ["ok", "refused"], outcomes
        transfer.refresh_from_db()
        places = set(
            Item.objects.filter(pk__in=[i.pk for i in items]).values_list("status", "current_site")
        )
        if outcomes[0] == "ok":
            assert transfer.status == "received"
            assert places == {("available", xiaolin_site.pk)}
        else:
            assert transfer.status == "cancelled"
            assert places == {("available", sui_central.pk)}
        assert not TransferLine.objects.filter(transfer=transfer, is_open=True).exists()
    assert find_violations() == []


def test_an_extra_receipt_racing_a_checkout_of_the_same_book_does_one_or_the_other(
    sui_librarian, sui_consignment, sui_central, xiaolin_site
):
    """The volume is scanned as extra at 小林一中 while the central desk lends it: either it
    arrives (and the desk is told it is not on its shelf) or it is lent (and the receipt says
    it is on loan); never both, never a 500."""
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=sui_central.library, category=category, loan_days=30, max_items=50
        )
    reader = Patron.objects.create(
        library=sui_central.library,
        card_number="SX070001",
        name="陈静",
        category=Patron.Category.ADULT,
        home_site=sui_central,
    )
    for attempt in range(ROUNDS):
        listed = recorded(sui_consignment, sui_central, f"NL7{attempt:03}0000")
        loose = recorded(sui_consignment, sui_central, f"NL7{attempt:03}0001")
        transfer = transfer_create(
            user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
        )
        transfer_add_items(user=sui_librarian, transfer=transfer, items=[listed])
        transfer_dispatch(user=sui_librarian, transfer=transfer)
        receipts = []

        def receive(transfer=transfer, listed=listed, loose=loose, receipts=receipts):
            receipts.append(
                transfer_receive(
                    user=sui_librarian,
                    transfer=transfer,
                    site=xiaolin_site,
                    barcodes=[listed.barcode, loose.barcode],
                )
            )

        outcomes = race(
            receive,
            partial(
                loan_checkout,
                user=sui_librarian,
                site=sui_central,
                patron=reader,
                barcode=loose.barcode,
            ),
        )
        assert outcomes[0] == "ok" and outcomes[1] in ("ok", "refused"), outcomes
        (receipt,) = receipts
        loose.refresh_from_db()
        lent = Loan.objects.open().filter(item=loose).exists()
        if outcomes[1] == "ok":
            assert lent and receipt.extra == []
            assert "借出" in str(receipt.problems[0].message)
            assert (loose.status, loose.current_site) == ("on_loan", sui_central)
        else:
            assert not lent and receipt.extra == [loose.barcode]
            assert (loose.status, loose.current_site) == ("available", xiaolin_site)
    assert find_violations() == []


def test_run_rotation_executed_twice_at_once_sends_each_volume_once_within_the_cap(
    sui_librarian, sui_consignment, sui_central, sui_branch, xiaolin_site
):
    """Two schedulers start `run_rotation --execute` at the same moment: one drafts the moves,
    the other waits for it and finds nothing left to do; the capped stop gets its cap."""
    for attempt in range(ROUNDS):
        plan = RotationPlan.objects.create(library=sui_central.library, name=f"轮换{attempt}")
        RotationStop.objects.create(
            library=plan.library, plan=plan, position=1, site=sui_branch, stay_days=30
        )
        RotationStop.objects.create(
            library=plan.library, plan=plan, position=2, site=xiaolin_site, stay_days=30,
            capacity=4,
        )  # fmt: skip
        items = [recorded(sui_consignment, sui_branch, f"NL8{attempt:03}{n:04}") for n in range(6)]
        rotation_add(plan=plan, items=items)
        RotationMember.objects.filter(plan=plan).update(
            arrived_at=timezone.now() - timedelta(days=40)
        )
        outputs = [io.StringIO(), io.StringIO()]
        run = [
            partial(call_command, "run_rotation", "--plan", str(plan.pk), "--execute", stdout=out)
            for out in outputs
        ]
        assert race(*run) == ["ok", "ok"]
        summaries = sorted(out.getvalue().strip().splitlines()[-1] for out in outputs)
        assert summaries == ["0 册图书，生成 0 张调拨单。", "4 册图书，生成 1 张调拨单。"]
        lines = TransferLine.objects.filter(item__in=items, is_open=True)
        assert lines.count() == 4
        assert set(lines.values_list("transfer__destination", flat=True)) == {xiaolin_site.pk}
        RotationPlan.objects.filter(pk=plan.pk).update(is_active=False)
    assert Transfer.objects.count() == ROUNDS
    assert find_violations() == []
