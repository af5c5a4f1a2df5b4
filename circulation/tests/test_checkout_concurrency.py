"""Desks and API clients acting at the same moment, on PostgreSQL with real connections: two
desks scanning one book, one reader borrowing many books at once, a return racing a checkout or
another return. Each ends with no error other than a refusal, no rule broken, and the data
adding up. SQLite serialises writers, so nothing runs at once there and these tests skip."""

import random
import threading
import time
from functools import partial

import pytest
from django.db import connection
from rest_framework.test import APIClient

from circulation.integrity import find_violations
from circulation.models import Loan, LoanRule
from circulation.services.loans import loan_checkout, loan_return
from collections_app.errors import Refused
from collections_app.models import Item, ItemEvent
from conftest import make_item

ROUNDS = 20
LIMIT = 5

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


def race(*actions, jitter=0.0):
    """Run the actions in threads released together by a barrier (each waiting up to `jitter`
    seconds more, so that every order of arrival happens over the rounds). Each outcome is the
    action's result, the Refused it raised, or any other exception, which fails the test."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=10)
            if jitter:
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


def assert_the_data_adds_up(items):
    """Each item's status agrees with its open loans and with its last history row."""
    for item in Item.objects.filter(pk__in=[i.pk for i in items]):
        open_loans = Loan.objects.open().filter(item=item).count()
        assert open_loans == (1 if item.status == Item.Status.ON_LOAN else 0), item
        last = ItemEvent.objects.filter(item=item).order_by("-at", "-id").first()
        if last is not None:
            assert (last.to_status, last.to_site_id) == (item.status, item.current_site_id)
    assert find_violations() == []


@pytest.fixture
def shelf(sui_consignment, sui_central):
    return [make_item(sui_consignment, sui_central, f"NL6000{n:04}") for n in range(2 * LIMIT)]


@pytest.fixture
def limit_of_five(loan_rules):
    LoanRule.objects.filter(pk__in=[rule.pk for rule in loan_rules]).update(max_items=LIMIT)


def return_all(user, site, items):
    for item in Item.objects.filter(pk__in=[i.pk for i in items], status=Item.Status.ON_LOAN):
        loan_return(user=user, site=site, barcode=item.barcode)


def test_two_desks_checking_out_one_item_at_once_make_exactly_one_loan(
    sui_librarian, sui_central, wang, li, sui_item
):
    for _ in range(ROUNDS):
        outcomes = race(
            *[
                partial(
                    loan_checkout,
                    user=sui_librarian,
                    site=sui_central,
                    patron=patron,
                    barcode=sui_item.barcode,
                )
                for patron in (wang, li)
            ]
        )
        refused = [o for o in outcomes if isinstance(o, Refused)]
        assert len(refused) == 1 and "已借给其他读者" in str(refused[0]), outcomes
        assert Loan.objects.open().filter(item=sui_item).count() == 1
        assert_the_data_adds_up([sui_item])
        loan_return(user=sui_librarian, site=sui_central, barcode=sui_item.barcode)
    assert ItemEvent.objects.filter(item=sui_item, kind="checked_out").count() == ROUNDS


def test_a_double_scan_racing_itself_makes_one_loan(sui_librarian, sui_central, wang, sui_item):
    scan = partial(
        loan_checkout, user=sui_librarian, site=sui_central, patron=wang, barcode=sui_item.barcode
    )
    for _ in range(ROUNDS):
        outcomes = race(scan, scan)
        assert sorted(done.already for done in outcomes) == [False, True]
        assert Loan.objects.open().filter(item=sui_item).count() == 1
        loan_return(user=sui_librarian, site=sui_central, barcode=sui_item.barcode)


def test_one_reader_borrowing_ten_books_at_once_gets_exactly_the_limit(
    sui_librarian, sui_central, wang, shelf, limit_of_five
):
    for _ in range(ROUNDS):
        outcomes = race(
            *[
                partial(
                    loan_checkout,
                    user=sui_librarian,
                    site=sui_central,
                    patron=wang,
                    barcode=item.barcode,
                )
                for item in shelf
            ]
        )
        refused = [o for o in outcomes if isinstance(o, Refused)]
        assert len(refused) == len(shelf) - LIMIT, outcomes
        assert all("达到" in str(r) for r in refused), refused
        assert Loan.objects.open().filter(patron=wang).count() == LIMIT
        assert_the_data_adds_up(shelf)
        return_all(sui_librarian, sui_central, shelf)


def test_one_reader_borrowing_ten_books_at_once_through_the_api_gets_exactly_the_limit(
    sui_librarian, sui_central, wang, shelf, limit_of_five
):
    def checkout(barcode):
        api = APIClient()
        api.force_authenticate(sui_librarian)
        return api.post(
            "/api/v1/circulation/checkout/",
            {"site": "SUIXIAN.central", "barcode": barcode, "card_number": wang.card_number},
            format="json",
        )

    for _ in range(ROUNDS):
        responses = race(*[partial(checkout, item.barcode) for item in shelf])
        codes = sorted(response.status_code for response in responses)
        assert codes == [201] * LIMIT + [409] * (len(shelf) - LIMIT), codes
        assert Loan.objects.open().filter(patron=wang).count() == LIMIT
        assert_the_data_adds_up(shelf)
        return_all(sui_librarian, sui_central, shelf)


def test_a_return_racing_a_checkout_of_the_same_book_is_clean(
    sui_librarian, sui_central, xiaolin_site, wang, sui_item
):
    """The book is on the shelf: one desk lends it while another scans it as a return (a book
    that came back a moment ago, scanned twice). Either order is fine; neither answers 500."""
    for _ in range(ROUNDS):
        for desk in (sui_central, xiaolin_site):
            outcomes = race(
                partial(
                    loan_checkout,
                    user=sui_librarian,
                    site=sui_central,
                    patron=wang,
                    barcode=sui_item.barcode,
                ),
                partial(loan_return, user=sui_librarian, site=desk, barcode=sui_item.barcode),
                jitter=0.003,
            )
            assert not isinstance(outcomes[0], Refused), outcomes
            loan = Loan.objects.filter(item=sui_item).latest("checked_out_at")
            assert loan.returned_at is None or loan.returned_at >= loan.checked_out_at
            assert_the_data_adds_up([sui_item])
            item = Item.objects.get(pk=sui_item.pk)
            if item.status == Item.Status.ON_LOAN:
                loan_return(user=sui_librarian, site=sui_central, barcode=sui_item.barcode)
            elif item.current_site_id != sui_central.pk:
                # Returned at the service point before the loan: it is on the return-home
                # draft there; take it back to the central library for the next round.
                loan_checkout(
                    user=sui_librarian,
                    site=item.current_site,
                    patron=wang,
                    barcode=sui_item.barcode,
                )
                loan_return(user=sui_librarian, site=sui_central, barcode=sui_item.barcode)


def test_two_returns_of_the_same_book_at_once_return_it_once(
    sui_librarian, sui_central, xiaolin_site, wang, sui_item
):
    for _ in range(ROUNDS):
        for desks in ((sui_central, sui_central), (sui_central, xiaolin_site)):
            loan_checkout(
                user=sui_librarian, site=sui_central, patron=wang, barcode=sui_item.barcode
            )
            outcomes = race(
                *[
                    partial(loan_return, user=sui_librarian, site=desk, barcode=sui_item.barcode)
                    for desk in desks
                ]
            )
            done = [o for o in outcomes if not isinstance(o, Refused) and not o.already]
            assert len(done) == 1, outcomes
            for other in outcomes:
                if other is done[0]:
                    continue
                if isinstance(other, Refused):
                    assert "已于" in str(other) and "归还" in str(other), other
                else:
                    assert other.already and other.loan == done[0].loan
            assert Loan.objects.filter(item=sui_item, returned_at__isnull=False).count() == len(
                ItemEvent.objects.filter(item=sui_item, kind="returned")
            )
            assert_the_data_adds_up([sui_item])
            item = Item.objects.get(pk=sui_item.pk)
            if item.current_site_id != sui_central.pk:
                loan_checkout(
                    user=sui_librarian, site=item.current_site, patron=wang, barcode=item.barcode
                )
                loan_return(user=sui_librarian, site=sui_central, barcode=sui_item.barcode)
