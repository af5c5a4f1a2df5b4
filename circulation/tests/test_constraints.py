"""One open loan per item and sane loan dates, enforced by the database."""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from circulation.models import Loan, Patron


@pytest.fixture
def reader(sui_central):
    return Patron.objects.create(
        library=sui_central.library,
        card_number="SX000001",
        name="王芳",
        category=Patron.Category.STUDENT,
        home_site=sui_central,
        birth_year=2010,
    )


def lend(item, patron, **fields):
    now = timezone.now()
    values = {
        "library": item.library,
        "item": item,
        "patron": patron,
        "site": item.current_site,
        "checked_out_at": now,
        "due_at": now + timedelta(days=30),
    }
    values.update(fields)
    return Loan.objects.create(**values)


def test_an_item_cannot_have_two_open_loans(sui_item, reader):
    lend(sui_item, reader)
    with pytest.raises(IntegrityError):
        lend(sui_item, reader)


def test_a_returned_item_can_be_lent_again(sui_item, reader, sui_central):
    now = timezone.now()
    lend(sui_item, reader, returned_at=now + timedelta(hours=1), return_site=sui_central)
    lend(sui_item, reader, checked_out_at=now + timedelta(hours=2), due_at=now + timedelta(days=9))
    assert Loan.objects.open().count() == 1


def test_a_loan_is_due_after_it_was_checked_out(sui_item, reader):
    now = timezone.now()
    with pytest.raises(IntegrityError):
        lend(sui_item, reader, due_at=now - timedelta(days=1))


def test_a_return_is_after_the_checkout_and_has_a_site(sui_item, reader, sui_central):
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        lend(sui_item, reader, returned_at=now - timedelta(days=1), return_site=sui_central)
    with pytest.raises(IntegrityError), transaction.atomic():
        lend(sui_item, reader, returned_at=now + timedelta(days=1))


def test_card_numbers_are_unique_within_a_library(reader, sui_central):
    with pytest.raises(IntegrityError):
        Patron.objects.create(
            library=sui_central.library,
            card_number=reader.card_number,
            name="另一位读者",
            category=Patron.Category.ADULT,
            home_site=sui_central,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_opening_a_loan_on_one_item_at_once_leave_exactly_one(sui_item, reader):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    outcomes = []
    barrier = threading.Barrier(2)

    def desk():
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                lend(sui_item, reader)
            outcomes.append("lent")
        except IntegrityError:
            outcomes.append("refused")
        finally:
            connection.close()

    for _ in range(10):
        Loan.objects.all().delete()
        outcomes.clear()
        barrier.reset()
        desks = [threading.Thread(target=desk) for _ in range(2)]
        for thread in desks:
            thread.start()
        for thread in desks:
            thread.join()
        assert sorted(outcomes) == ["lent", "refused"]
        assert Loan.objects.filter(item=sui_item).count() == 1
