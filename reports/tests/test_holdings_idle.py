"""Idle volumes (on the shelf, not lent since a day) come from the holdings summary's month of
last loan plus the one boundary month counted live, or, for a day at or before the summary's
horizon, from the volumes never lent plus the shelf's lent volumes counted live: swept over days
asked, loans around month ends (UTC and local) and ten years of last loans, and with the horizon
moved on since the summary was written, they equal the volumes counted one by one."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.scope import LoanScope
from circulation.integrity import find_violations
from collections_app.models import Item, ItemEvent
from collections_app.services.holdings import holdings_fold, horizon_month
from collections_app.services.items import item_transition
from collections_app.tests.test_holdings_horizon import TODAY, lend_over_years, months_ahead
from conftest import make_item
from reports.engine.holdings import item_counts

# Loans just before and after the UTC and the local (UTC+8) turn of three months, and mid-month.
LENT_AT = [
    datetime(2026, month, 1, tzinfo=UTC) + timedelta(hours=hours)
    for month in (4, 5, 6)
    for hours in (-9, -8, -7, -1, 0, 1, 15, 16, 17, 24 * 14)
]


@pytest.fixture
def shelf(sui_consignment, sui_central, sui_branch):
    books = []
    for n, lent_at in enumerate([None, *LENT_AT]):
        book = make_item(sui_consignment, sui_central if n % 2 else sui_branch, f"NL7000{n:04}")
        item_transition(
            items=[book],
            kind=ItemEvent.Kind.STATUS_CHANGED,
            to_status=Item.Status.DAMAGED if n % 5 == 0 else Item.Status.AVAILABLE,
            at=lent_at or datetime(2026, 3, 1, tzinfo=UTC),
            last_loan_at=lent_at,
        )
        books.append(book)
    return books


def _counted(idle_since):
    return sum(
        item.status == Item.Status.AVAILABLE
        and (item.last_loan_at is None or item.last_loan_at < idle_since)
        for item in Item.objects.all()
    )


@pytest.mark.parametrize("folded", [False, True])
def test_idle_volumes_agree_with_the_volumes_for_every_day_asked(shelf, sui_librarian, folded):
    if folded:
        holdings_fold()
    scope = LoanScope.for_user(sui_librarian)
    days_asked = sorted({at + timedelta(minutes=m) for at in LENT_AT for m in (-1, 0, 1)})
    days_asked += [datetime(2026, 7, 1, tzinfo=UTC) - timedelta(hours=h) for h in range(0, 2400, 7)]
    seen = _idle_figures_match(scope, days_asked)
    assert len(seen) > 10  # the sweep crossed many loans, not one figure throughout
    assert not find_violations()


def test_a_volume_lent_again_moves_to_the_month_of_its_new_loan(shelf, sui_librarian):
    scope = LoanScope.for_user(sui_librarian)
    april = next(b for b in shelf if b.last_loan_at and b.last_loan_at.month == 4)
    april = Item.objects.get(pk=april.pk)
    item_transition(
        items=[april],
        kind=ItemEvent.Kind.STATUS_CHANGED,
        to_status=Item.Status.AVAILABLE,
        last_loan_at=datetime(2026, 6, 20, tzinfo=UTC),
    )
    since = datetime(2026, 6, 10, tzinfo=UTC)
    assert item_counts(scope, idle_since=since)[()]["idle"] == _counted(since)
    assert not find_violations()


@pytest.mark.parametrize("moved_on", [0, 1, 5])
@pytest.mark.parametrize("folded", [False, True])
def test_idle_volumes_agree_with_a_plain_count_across_the_horizon(
    sui_consignment, sui_central, sui_branch, sui_librarian, folded, moved_on
):
    lend_over_years(sui_consignment, [sui_central, sui_branch])
    if folded:
        with time_machine.travel(TODAY, tick=False):
            holdings_fold()
    asked_on = months_ahead(TODAY, moved_on)  # the horizon moved on since the rows were written
    scope = LoanScope.for_user(sui_librarian)
    horizon = datetime.combine(horizon_month(asked_on), datetime.min.time(), UTC)
    days_asked = [asked_on - timedelta(days=d, hours=d % 24) for d in range(0, 11 * 366, 29)]
    days_asked += [horizon + timedelta(hours=h) for h in range(-50, 50, 7)]
    days_asked += [horizon + timedelta(days=31 * m) for m in (-1, 1, 2)]
    with time_machine.travel(asked_on, tick=False):
        assert any(idle_since < horizon for idle_since in days_asked)
        seen = _idle_figures_match(scope, days_asked)
        assert not find_violations()
    assert len(seen) > 100


def _idle_figures_match(scope, days_asked) -> set:
    """Each day asked: the idle volumes, in all and per site, equal the plain count. Returns
    the distinct figures seen."""
    seen = set()
    for idle_since in days_asked:
        expected = _counted(idle_since)
        seen.add(expected)
        by_site = item_counts(scope, ["site"], idle_since=idle_since)
        assert item_counts(scope, idle_since=idle_since)[()]["idle"] == expected, idle_since
        assert sum(entry["idle"] for entry in by_site.values()) == expected, idle_since
    return seen
