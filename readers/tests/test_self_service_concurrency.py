"""The county librarian closing self-service at a site while a reader there is borrowing, on
PostgreSQL with real connections: either the loan was made before the switch, or the reader is
refused — never a loan made after the site was closed. SQLite serialises writers, so nothing
runs at once there and this test skips."""

import pytest
from django.db import connection

from circulation.models import Loan, LoanRule, Patron
from circulation.tests.test_checkout_concurrency import race
from collections_app.errors import Refused
from conftest import make_item
from readers import services
from readers.models import SelfServicePoint

ROUNDS = 20

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


def test_closing_self_service_and_borrowing_there_at_once_never_lends_after_the_close(
    suixian, xiaolin_site, sui_consignment, sui_librarian
):
    LoanRule.objects.create(
        library=suixian, category=Patron.Category.ADULT, loan_days=30, max_items=ROUNDS + 1
    )
    reader = Patron.objects.create(
        library=suixian,
        card_number="SX900001",
        name="读者甲",
        category=Patron.Category.ADULT,
        home_site=xiaolin_site,
    )
    items = [make_item(sui_consignment, xiaolin_site, f"NL5100{n:04}") for n in range(ROUNDS)]
    outcomes = {"lent": 0, "refused": 0}
    for item in items:
        services.self_service_set(user=sui_librarian, site=xiaolin_site, enabled=True)
        borrowed, _closed = race(
            lambda item=item: services.self_service_checkout(
                reader=reader, site=xiaolin_site, barcode=item.barcode
            ),
            lambda: services.self_service_set(user=sui_librarian, site=xiaolin_site, enabled=False),
            jitter=0.01,
        )
        point = SelfServicePoint.objects.get(site=xiaolin_site)
        assert not point.enabled
        loan = Loan.objects.filter(item=item).first()
        if isinstance(borrowed, Refused):
            assert "没有开通自助借书" in borrowed.message
            assert loan is None
            outcomes["refused"] += 1
        else:
            assert loan is not None and loan.checked_out_at < point.changed_at
            outcomes["lent"] += 1
    # Over the rounds both orders of arrival happened (the jitter shuffles them).
    assert outcomes["lent"] + outcomes["refused"] == ROUNDS
    print(f"self-service race: {outcomes}")
