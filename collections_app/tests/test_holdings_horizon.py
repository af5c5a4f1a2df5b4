"""The holdings summary keeps last-loan months apart only back to a horizon: folded over ten
years of last loans a group keeps at most HORIZON_MONTHS + 2 rows, and when the horizon has
moved on since rows were written (folded or not), the sums still equal the volumes counted
live and the fold brings the old rows to the new horizon."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db.models import Sum

from circulation.integrity import find_violations
from collections_app.models import HoldingCount, Item, ItemEvent
from collections_app.services.holdings import (
    HORIZON_MONTHS,
    holdings_fold,
    holdings_rebuild,
    horizon_month,
)
from collections_app.services.items import item_transition
from conftest import make_item

TODAY = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def lend_over_years(consignment, sites, *, today=TODAY, years=10, prefix="NL8"):
    """Volumes last lent about every three weeks over `years` before `today`, spread over
    `sites`, every fifth damaged, a few never lent; written on `today` through the one door."""
    books = []
    with time_machine.travel(today, tick=False):
        for n in range(years * 365 // 20 + 4):
            lent_at = None if n < 4 else today - timedelta(days=20 * (n - 4) + n % 3, hours=n)
            book = make_item(consignment, sites[n % len(sites)], f"{prefix}{n:06}")
            item_transition(
                items=[book],
                kind=ItemEvent.Kind.STATUS_CHANGED,
                to_status=Item.Status.DAMAGED if n % 5 == 0 else Item.Status.AVAILABLE,
                at=today - timedelta(days=years * 366),
                last_loan_at=lent_at,
            )
            books.append(book)
    return books


def summary():
    rows = HoldingCount.objects.values("site_id", "status", "lent")
    return {
        (r["site_id"], r["status"], r["lent"]): r["n"]
        for r in rows.annotate(n=Sum("volumes")).order_by()
        if r["n"]
    }


def live():
    counts: dict = {}
    for item in Item.objects.all():
        key = (item.current_site_id, item.status, item.last_loan_at is not None)
        counts[key] = counts.get(key, 0) + 1
    return counts


def groups() -> int:
    grain = ("library", "owner", "site", "consignment", "clc_top", "display", "status", "lent")
    return HoldingCount.objects.values(*grain).distinct().order_by().count()


def months_ahead(day: datetime, months: int) -> datetime:
    n = day.year * 12 + day.month - 1 + months
    return day.replace(year=n // 12, month=n % 12 + 1, day=min(day.day, 28))


def test_the_horizon_is_the_month_thirteen_months_before_the_days_utc_month():
    assert HORIZON_MONTHS == 13
    assert horizon_month(date(2026, 11, 30)) == date(2025, 10, 1)
    assert horizon_month(date(2026, 1, 1)) == date(2024, 12, 1)
    # Late on 31 December in Beijing is still December in UTC, and the other way round.
    assert horizon_month(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == date(2025, 11, 1)
    assert horizon_month(datetime(2027, 1, 1, 7, tzinfo=UTC)) == date(2025, 12, 1)
    # A year without a loan, asked on any day, splits on a month after the horizon.
    day = date(2024, 1, 1)
    while day < date(2028, 1, 1):
        asked = day - timedelta(days=365)
        assert date(asked.year, asked.month, 1) > horizon_month(day), day
        day += timedelta(days=1)


@pytest.mark.django_db
def test_a_fold_over_ten_years_of_last_loans_leaves_each_group_within_the_horizon(
    sui_consignment, sui_central, sui_branch
):
    lend_over_years(sui_consignment, [sui_central, sui_branch])
    lent_months = Item.objects.filter(last_loan_at__isnull=False).dates("last_loan_at", "month")
    assert len(lent_months) > 100  # without the horizon a group would keep one row for each
    with time_machine.travel(TODAY, tick=False):
        rows = holdings_fold()
        assert rows <= groups() * (HORIZON_MONTHS + 2)
        assert rows < 30
        oldest = HoldingCount.objects.order_by("lent_month").exclude(lent_month=None)[0]
        assert oldest.lent_month == horizon_month(TODAY)
        assert summary() == live()
        assert find_violations() == []
        assert holdings_rebuild() == rows  # counted afresh: the same rows
        assert summary() == live()


@pytest.mark.django_db
@pytest.mark.parametrize("folded", [False, True])
def test_the_sums_agree_while_the_horizon_moves_past_rows_written_before(
    sui_consignment, sui_central, sui_branch, folded
):
    books = lend_over_years(sui_consignment, [sui_central, sui_branch])
    if folded:
        with time_machine.travel(TODAY, tick=False):
            holdings_fold()
    shelf = [b.pk for b in books if b.pk % 5]
    for months in range(1, 16):
        later = months_ahead(TODAY, months)
        with time_machine.travel(later, tick=False):
            # Rows written with an older horizon, compared with the volumes clamped today.
            assert find_violations() == [], later
            # A desk changes volumes whose group holds the older horizon: a volume lent again,
            # one of the oldest moved to the other site.
            lent_again = Item.objects.get(pk=shelf[-months])
            item_transition(
                items=[lent_again],
                kind=ItemEvent.Kind.STATUS_CHANGED,
                to_status=Item.Status.AVAILABLE,
                last_loan_at=later - timedelta(days=months),
            )
            moved = Item.objects.get(pk=shelf[-months - 20])
            to_site = sui_branch if moved.current_site_id == sui_central.pk else sui_central
            item_transition(items=[moved], kind=ItemEvent.Kind.ARRIVED, to_site=to_site)
            assert find_violations() == [], later
            assert summary() == live()
            if months % 4 == 0:
                holdings_fold()
                assert find_violations() == [], later
    with time_machine.travel(later, tick=False):
        rows = holdings_fold()
        assert rows <= groups() * (HORIZON_MONTHS + 2)
        assert not HoldingCount.objects.filter(lent_month__lt=horizon_month(later)).exists()
        assert summary() == live()
        assert find_violations() == []
