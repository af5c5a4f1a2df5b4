"""Loans as report facts, and the refresh of the summary tables built from them.

`loan_facts(loans)` annotates raw loans with every report dimension. The same expressions feed
the summary tables (one INSERT … SELECT … GROUP BY per table) and the live part of a report (the
days not yet summarised), so the two can never disagree on what a dimension means:

- a loan counts once, on the local day it was checked out, at the checkout site (renewals are
  not loans; the return site plays no part);
- site kind, consignment and owner are the site's and the item's at refresh time;
- the age band is the reader's age in the calendar year of the checkout (AgeBand);
- the CLC classes are the title's: its top letter and the level-2 class from TitleClass.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateField, F, Value, When
from django.db.models.functions import (
    Coalesce,
    ExtractYear,
    TruncDate,
    TruncMonth,
    TruncWeek,
    TruncYear,
)
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from circulation.models import Loan
from collections_app.models import Title
from reports.clc import SecondLevel
from reports.models import (
    AGE_BOUNDS,
    AgeBand,
    ClcNumber,
    LoanDay,
    LoanMonth,
    LoanMonthClass,
    LoanMonthClassAge,
    LoanMonthClc2,
    LoanMonthReader,
    ReaderMonth,
    RefreshState,
    TitleClass,
)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def age_band_expression():
    age = ExtractYear("checked_out_at") - F("patron__birth_year")
    return Case(
        When(patron__birth_year__isnull=True, then=Value(AgeBand.UNKNOWN.value)),
        *[When(LessThanOrEqual(age, bound), then=Value(band.value)) for bound, band in AGE_BOUNDS],
        default=Value(AgeBand.SENIOR.value),
        output_field=CharField(),
    )


# Every dimension of a loan, as an expression over Loan. Keys are the summary columns.
def fact_expressions() -> dict:
    return {
        "library_id": F("library_id"),
        "owner_id": F("item__owner_id"),
        "day": TruncDate("checked_out_at"),
        "month": TruncMonth("checked_out_at", output_field=DateField()),
        "site_id": F("site_id"),
        "site_kind": F("site__kind"),
        "consignment_id": F("item__consignment_id"),
        "display_id": F("display_id"),
        "clc_top": F("item__title__clc_top"),
        "clc2": Coalesce(F("item__title__report_class__clc2"), Value(""), output_field=CharField()),
        "category": F("patron__category"),
        "age_band": age_band_expression(),
        "patron_id": F("patron_id"),
    }


TIME_TRUNC = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}


def loan_facts(loans, columns):
    """`loans` annotated with the named dimensions, as `f_<column>`."""
    expressions = fact_expressions()
    return loans.annotate(**{f"f_{name}": expressions[name] for name in columns})


def loans_between(start: date, end: date):
    """Loans checked out on the local days start … end − 1."""
    return Loan.objects.filter(
        checked_out_at__gte=local_midnight(start), checked_out_at__lt=local_midnight(end)
    )


DAY_COLUMNS = ("library_id", "owner_id", "day", "site_id", "site_kind", "consignment_id")
DAY_COLUMNS += ("display_id",)
PLACE_COLUMNS = ("library_id", "owner_id", "month", "site_id", "site_kind", "consignment_id")
# The month cubes, narrowest first: the extra dimensions each one holds.
MONTH_CUBES = (
    (LoanMonthReader, ("category", "age_band")),
    (LoanMonthClass, ("clc_top", "category")),
    (LoanMonthClassAge, ("clc_top", "age_band")),
    (LoanMonthClc2, ("clc_top", "clc2")),
    (LoanMonth, ("clc_top", "clc2", "category", "age_band")),
)
READER_COLUMNS = ("library_id", "owner_id", "consignment_id", "month", "site_id", "site_kind")
READER_COLUMNS += ("patron_id", "category", "age_band")


def _insert_grouped(model, columns, loans, aggregates: dict) -> int:
    grouped = (
        loan_facts(loans, columns)
        .values(*[f"f_{name}" for name in columns])
        .annotate(**aggregates)
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    quote = connection.ops.quote_name
    targets = [*columns, *aggregates]
    sources = [quote(f"f_{name}") for name in columns] + [quote(name) for name in aggregates]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, targets))}) "
            f"SELECT {', '.join(sources)} FROM ({sql}) facts",
            params,
        )
        return cursor.rowcount


def refresh_title_classes() -> int:
    """Map every title whose class number is new or changed to its level-2 class."""
    TitleClass.objects.exclude(clc=F("title__clc")).delete()
    unmapped = Title.objects.filter(report_class__isnull=True)
    known = ClcNumber.objects.values_list("clc", flat=True)
    fresh = set(unmapped.exclude(clc__in=known).values_list("clc", flat=True).distinct())
    if fresh:
        classes = SecondLevel.from_database()
        ClcNumber.objects.bulk_create(
            [ClcNumber(clc=number, clc2=classes.of(number)) for number in fresh],
            ignore_conflicts=True,
        )
    from django.db.models import OuterRef, Subquery

    rows = unmapped.annotate(
        f_clc2=Subquery(ClcNumber.objects.filter(clc=OuterRef("clc")).values("clc2")[:1])
    ).values("pk", "clc", "f_clc2")
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(TitleClass._meta.db_table)} (title_id, clc, clc2) "
            # A page may map new titles while the nightly refresh does: the first one wins.
            f"SELECT * FROM ({sql}) mapped WHERE true ON CONFLICT DO NOTHING",
            params,
        )
        return cursor.rowcount


def summarised_until() -> date | None:
    state = RefreshState.objects.filter(name="loans").first()
    return state.summarised_until if state else None


def refresh_window(*, until: date, since: date | None, current: date | None):
    """The days [start, end) to rebuild so that the tables stay whole months without gaps.

    It starts on a month boundary, never after the current reach (no gap), and ends at
    `until` when that reaches further than now, or else at the end of `until`'s month (capped
    at the current reach), so a fix of an old period rebuilds only the months it touches.
    """
    if current is None:
        first = Loan.objects.order_by("checked_out_at").values_list("checked_out_at", flat=True)
        first = first.first()
        start = timezone.localdate(first) if first else until
        if since is not None:
            start = min(start, since)
    else:
        start = current - timedelta(days=7) if since is None else min(since, current)
    start = month_start(start)
    if current is None or until >= current:
        end = until
    else:
        end = min(next_month(until - timedelta(days=1)), current)
    return start, max(start, end)


def refresh_report_tables(*, until: date | None = None, since: date | None = None) -> dict:
    """Rebuild the summary tables for [start, end) in one transaction; idempotent."""
    until = until or timezone.localdate()
    counts = {"titles": refresh_title_classes()}
    with transaction.atomic():
        # One refresh at a time: a second one waits here, then rebuilds on top of the first.
        state, _ = RefreshState.objects.select_for_update().get_or_create(
            name="loans", defaults={"summarised_until": date(1900, 1, 1)}
        )
        current = None if state.summarised_until.year == 1900 else state.summarised_until
        start, end = refresh_window(until=until, since=since, current=current)
        loans = loans_between(start, end)
        LoanDay.objects.filter(day__gte=start, day__lt=end).delete()
        for cube, _extra in MONTH_CUBES:
            cube.objects.filter(month__gte=start, month__lt=end).delete()
        ReaderMonth.objects.filter(month__gte=start, month__lt=end).delete()
        counts["loan_days"] = _insert_grouped(LoanDay, DAY_COLUMNS, loans, {"loans": Count("id")})
        counts["loan_months"] = 0
        for cube, extra in MONTH_CUBES:
            rows = _insert_grouped(cube, PLACE_COLUMNS + extra, loans, {"loans": Count("id")})
            counts[cube._meta.model_name] = rows
            counts["loan_months"] += rows
        counts["reader_months"] = _insert_grouped(
            ReaderMonth,
            READER_COLUMNS,
            loans,
            {"loans": Count("id"), "visits": Count(TruncDate("checked_out_at"), distinct=True)},
        )
        state.summarised_until = max(end, current or end)
        state.refreshed_at = timezone.now()
        state.save()
    counts.update(start=start, end=end, summarised_until=state.summarised_until)
    return counts
