"""Two desks scanning the same book at the same moment: exactly one loan, the other desk is told
the book is already on loan. Real concurrency needs PostgreSQL and two connections."""

import threading

import pytest
from django.db import connection

from circulation.models import Loan
from circulation.services.loans import loan_checkout, loan_return
from collections_app.errors import Refused
from collections_app.models import Item, ItemEvent

ROUNDS = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_checking_out_one_item_at_once_make_exactly_one_loan(
    sui_librarian, sui_central, wang, li, sui_item
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    barrier = threading.Barrier(2)
    outcomes = []

    def desk(patron):
        try:
            barrier.wait(timeout=10)
            loan_checkout(
                user=sui_librarian, site=sui_central, patron=patron, barcode=sui_item.barcode
            )
            outcomes.append("lent")
        except Refused as refused:
            outcomes.append(str(refused.message))
        finally:
            connection.close()

    for _ in range(ROUNDS):
        outcomes.clear()
        barrier.reset()
        desks = [threading.Thread(target=desk, args=(p,)) for p in (wang, li)]
        for thread in desks:
            thread.start()
        for thread in desks:
            thread.join()
        assert sorted(outcomes)[0] == "lent", outcomes
        assert "已借给其他读者" in sorted(outcomes)[1], outcomes
        assert Loan.objects.open().filter(item=sui_item).count() == 1
        assert Item.objects.get(pk=sui_item.pk).status == "on_loan"
        loan_return(user=sui_librarian, site=sui_central, barcode=sui_item.barcode)
    assert ItemEvent.objects.filter(item=sui_item, kind="checked_out").count() == ROUNDS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_scan_racing_itself_makes_one_loan(sui_librarian, sui_central, wang, sui_item):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    barrier = threading.Barrier(2)
    outcomes = []

    def desk():
        try:
            barrier.wait(timeout=10)
            done = loan_checkout(
                user=sui_librarian, site=sui_central, patron=wang, barcode=sui_item.barcode
            )
            outcomes.append("already" if done.already else "lent")
        finally:
            connection.close()

    for _ in range(ROUNDS):
        outcomes.clear()
        barrier.reset()
        desks = [threading.Thread(target=desk) for _ in range(2)]
        for thread in desks:
            thread.start()
        for thread in desks:
            thread.join()
        assert sorted(outcomes) == ["already", "lent"]
        assert Loan.objects.open().filter(item=sui_item).count() == 1
        loan_return(user=sui_librarian, site=sui_central, barcode=sui_item.barcode)
