"""Marking volumes racing the desk and the transfers, on PostgreSQL with real connections: the
item lock decides, one side is refused, and the data adds up. SQLite serialises writers, so
nothing runs at once there and these tests skip."""

import random
import threading
import time
from functools import partial

import pytest
from django.db import connection

from circulation.integrity import find_violations
from circulation.models import Loan, LoanRule, Patron
from circulation.services.loans import loan_checkout, loan_return
from collections_app.errors import Refused
from collections_app.models import Item, ItemEvent, TransferLine
from collections_app.services.stock import item_mark
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_cancel,
    transfer_create,
)

ROUNDS = 20

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


def race(*actions, jitter=0.005):
    """Run the actions in threads released together by a barrier, each waiting up to `jitter`
    seconds more so that every order of arrival happens over the rounds. Each outcome is the
    action's result or the Refused it raised; any other exception fails the test."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            time.sleep(random.uniform(0, jitter))
            outcomes[index] = action()
        except Exception as error:  # noqa: BLE001 — reported below, with its type
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, Refused)]
    assert not errors, errors
    return outcomes


@pytest.fixture
def reader(sui_central):
    LoanRule.objects.create(
        library=sui_central.library, category="adult", loan_days=30, max_items=5
    )
    return Patron.objects.create(
        library=sui_central.library,
        card_number="SX900001",
        name="张三",
        category="adult",
        home_site=sui_central,
    )


def test_marking_missing_racing_a_checkout_lets_exactly_one_through(
    sui_librarian, sui_central, sui_item, reader
):
    mark = partial(item_mark, user=sui_librarian, items=[sui_item], status="missing")
    checkout = partial(
        loan_checkout, user=sui_librarian, site=sui_central, patron=reader, barcode=sui_item.barcode
    )
    for _ in range(ROUNDS):
        marked, lent = race(mark, checkout)
        item = Item.objects.get(pk=sui_item.pk)
        if isinstance(marked, Refused):
            assert not isinstance(lent, Refused) and item.status == "on_loan"
            assert "归还" in marked.problems[0].message
        else:
            assert isinstance(lent, Refused) and item.status == "missing"
            assert not Loan.objects.open().filter(item=item).exists()
        assert find_violations() == []
        if item.status == "on_loan":
            loan_return(user=sui_librarian, site=sui_central, barcode=item.barcode)
        else:
            item_mark(user=sui_librarian, items=[item], status="available")


def test_marking_missing_racing_a_transfer_lets_exactly_one_through(
    sui_librarian, sui_central, xiaolin_site, sui_item
):
    for _ in range(ROUNDS):
        transfer = transfer_create(
            user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="rotation"
        )
        marked, added = race(
            partial(item_mark, user=sui_librarian, items=[sui_item], status="missing"),
            partial(transfer_add_items, user=sui_librarian, transfer=transfer, items=[sui_item]),
        )
        item = Item.objects.get(pk=sui_item.pk)
        on_transfer = TransferLine.objects.filter(item=item, is_open=True).exists()
        assert isinstance(marked, Refused) != isinstance(added, Refused), (marked, added)
        assert (item.status, on_transfer) == (
            ("available", True) if isinstance(marked, Refused) else ("missing", False)
        )
        assert find_violations() == []
        transfer_cancel(user=sui_librarian, transfer=transfer)
        item_mark(user=sui_librarian, items=[item], status="available")


def test_the_same_mark_sent_twice_at_once_is_written_once(sui_librarian, sui_item):
    for round_ in range(ROUNDS):
        status = "damaged" if round_ % 2 == 0 else "available"
        mark = partial(item_mark, user=sui_librarian, items=[sui_item], status=status)
        assert sorted(race(mark, mark)) == [0, 1]
        assert Item.objects.get(pk=sui_item.pk).status == status
    assert ItemEvent.objects.filter(item=sui_item).count() == ROUNDS
    assert find_violations() == []
