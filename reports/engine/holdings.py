"""The volumes in service now (`Holdings`, `item_counts`): held, never lent and idle, read
from the holdings summary that every change of a volume keeps current."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from collections_app.models import HoldingCount, Item
from collections_app.services.holdings import horizon_month, lent_month
from reports.engine.dimensions import ReportError
from sharedloan.db_routers import connection_for_reads

IN_SERVICE = (Item.Status.AVAILABLE, Item.Status.ON_LOAN, Item.Status.IN_TRANSIT)

ITEM_COLUMNS = {
    "library": "library_id",
    "site": "current_site_id",
    "site_kind": "current_site__kind",
    "consignment": "consignment_id",
    "clc_top": "title__clc_top",
    "clc2": "title__report_class__clc2",
    "display": "display_id",
}


# The same dimensions in the holdings summary (collections_app.HoldingCount).
SUMMARY_COLUMNS = {
    "library": "library_id",
    "site": "site_id",
    "site_kind": "site__kind",
    "consignment": "consignment_id",
    "clc_top": "clc_top",
    "display": "display_id",
}


def item_filters(filters: dict) -> dict:
    """The filters of a report that apply to volumes (not reader category, age band or
    display)."""
    kept = ("library", "site", "site_kind", "consignment", "clc_top", "clc2")
    return {k: v for k, v in filters.items() if k in kept}


class Holdings:
    """The volumes in service now (on the shelf, on loan or in transit), where they are now,
    at the finest grain the pages show — library × site × consignment × class × display, a few
    thousand groups however many volumes — added up here for each table, so that a page reads
    them once. `never` counts volumes never lent; `idle` those on the shelf not lent since
    `idle_since` (a datetime) or never.

    Read from the holdings summary, kept current by every change of a volume: held and never
    lent are sums of its rows. Idle depends on the day asked: the summary keeps the (UTC) month
    each volume was last lent, so the shelf's volumes never lent or last lent in a month before
    `idle_since`'s are summed from it, and only those last lent in that one month before
    `idle_since` are counted live (an index on the shelf's last loans). The summary tells the
    months apart only after its horizon (`horizon_month`: older ones are counted as the
    horizon's): a day asked in the horizon's month or before counts the shelf's lent volumes
    live, from the same index, for the shorter side of it (`_idle_parts`). A question by level-2
    class counts the volumes live, as before."""

    def __init__(self, scope: LoanScope, filters=None, *, idle_since=None, dims=()):
        filters = filters or {}
        for name in [*dims, *filters]:
            if name not in ITEM_COLUMNS:
                raise ReportError(_("馆藏不能按“%(name)s”统计。") % {"name": name})
        if "clc2" in [*dims, *filters]:
            self.rows = self._counted_live(scope, filters, idle_since, dims)
            return
        grain = list(SUMMARY_COLUMNS)
        groups: dict = {}
        reads = connection_for_reads(HoldingCount)
        shelf = scope.items(Item.objects.filter(status=Item.Status.AVAILABLE))
        shelf = shelf.filter(**{ITEM_COLUMNS[name]: value for name, value in filters.items()})
        summary = scope.apply(HoldingCount.objects.filter(status__in=IN_SERVICE))
        summary = summary.filter(
            **{SUMMARY_COLUMNS[name]: value for name, value in filters.items()}
        )
        keys = {f"g_{name}": F(SUMMARY_COLUMNS[name]) for name in grain}
        sums = {"held": Sum("volumes"), "never": Sum("volumes", filter=Q(lent=False))}
        live = None
        if idle_since is not None:
            idle, counted, sign = self._idle_parts(shelf.using(reads.alias), idle_since)
            sums["idle"] = Sum("volumes", filter=Q(status=Item.Status.AVAILABLE) & idle)
            item_keys = {f"g_{name}": F(ITEM_COLUMNS[name]) for name in grain}
            live = shelf.filter(counted).annotate(**item_keys).values(*item_keys)
            live = live.annotate(n=Count("id")).order_by().using(reads.alias)
        summed = summary.annotate(**keys).values(*keys).annotate(**sums).order_by()
        with transaction.atomic(using=reads.alias):
            if reads.vendor == "postgresql":
                # Years of last-loan months make a province's summary a few hundred thousand
                # rows, and a question past the horizon counts up to half its lent volumes
                # live: in the default 4 MB their grouping sorts on disk (0.6 s, not 0.07).
                with reads.cursor() as cursor:
                    cursor.execute("SET LOCAL work_mem = '64MB'")
            rows = list(summed.using(reads.alias))
            counted_live = [] if live is None else list(live)
        for row in rows:
            key = tuple(row[f"g_{name}"] for name in grain)
            groups[key] = [row["held"] or 0, row["never"] or 0, row.get("idle") or 0]
        for row in counted_live:
            key = tuple(row[f"g_{name}"] for name in grain)
            groups.setdefault(key, [0, 0, 0])[2] += sign * row["n"]
        self.rows = [
            (
                dict(zip(grain, key, strict=True)),
                (held, never, idle if idle_since is not None else 0),
            )
            for key, (held, never, idle) in groups.items()
            if held  # a group a volume left sums to nothing until the fold removes it
        ]

    @staticmethod
    def _idle_parts(shelf, idle_since) -> tuple[Q, Q, int]:
        """How the shelf's volumes idle since `idle_since` are counted: the summary's rows to
        sum, the shelf's volumes to count live and whether to add (1) or take away (-1) them.

        The summary's months are exact after its horizon; a row at the horizon or before may
        stand for any older month (rows written before the horizon last moved may even hold an
        older horizon). Within the horizon: the months before `idle_since`'s, plus its month's
        volumes lent before `idle_since`. Before it: the volumes lent in the horizon's month
        or before are either counted live up to `idle_since`, or summed from the summary less
        those lent from `idle_since` to the horizon's month's end, whichever span of time is
        the shorter (from the shelf's oldest loan, read at the start of its index)."""
        never = Q(lent_month__isnull=True)
        boundary = lent_month(idle_since)
        horizon = horizon_month(timezone.now())
        if boundary > horizon:
            month_began = datetime(boundary.year, boundary.month, 1, tzinfo=UTC)
            lent = Q(last_loan_at__gte=month_began, last_loan_at__lt=idle_since)
            return never | Q(lent_month__lt=boundary), lent, 1
        after = date(horizon.year + horizon.month // 12, horizon.month % 12 + 1, 1)
        after = datetime(after.year, after.month, 1, tzinfo=UTC)
        oldest = shelf.aggregate(oldest=Min("last_loan_at"))["oldest"]
        if oldest is None or idle_since - oldest <= after - idle_since:
            return never, Q(last_loan_at__lt=idle_since), 1
        lent_since = Q(last_loan_at__gte=idle_since, last_loan_at__lt=after)
        return never | Q(lent_month__lte=horizon), lent_since, -1

    @staticmethod
    def _counted_live(scope, filters, idle_since, dims) -> list:
        grain = [n for n in ITEM_COLUMNS if n != "clc2" or "clc2" in [*dims, *filters]]
        items = scope.items(Item.objects.filter(status__in=IN_SERVICE))
        items = items.filter(**{ITEM_COLUMNS[name]: value for name, value in filters.items()})
        aggregates = {
            "held": Count("id"),
            "never": Count("id", filter=Q(last_loan_at__isnull=True)),
        }
        if idle_since is not None:
            aggregates["idle"] = Count(
                "id",
                filter=Q(status=Item.Status.AVAILABLE)
                & (Q(last_loan_at__isnull=True) | Q(last_loan_at__lt=idle_since)),
            )
        keys = {f"g_{name}": F(ITEM_COLUMNS[name]) for name in grain}
        grouped = items.annotate(**keys).values(*keys).annotate(**aggregates).order_by()
        reads = connection_for_reads(Item)
        with transaction.atomic(using=reads.alias):
            if reads.vendor == "postgresql":
                # The planner cannot tell that half a million volumes fall in a few thousand
                # groups and, in the default 4 MB, sorts them on disk: room to hash instead.
                with reads.cursor() as cursor:
                    cursor.execute("SET LOCAL work_mem = '64MB'")
            rows = list(grouped.using(reads.alias))
        return [
            (
                {name: row[f"g_{name}"] for name in grain},
                (row["held"], row["never"], row.get("idle", 0)),
            )
            for row in rows
        ]

    def by(self, dims=()) -> dict:
        """{(value, …): {"held": n, "never": n, "idle": n}} grouped by `dims`."""
        sums: dict = {}
        for values, (held, never, idle) in self.rows:
            key = tuple(values[name] for name in dims)
            entry = sums.setdefault(key, [0, 0, 0])
            entry[0] += held
            entry[1] += never
            entry[2] += idle
        if not dims and not sums:
            sums[()] = [0, 0, 0]
        return {k: {"held": v[0], "never": v[1], "idle": v[2]} for k, v in sums.items()}


def item_counts(scope: LoanScope, dims=(), filters=None, *, idle_since=None) -> dict:
    """Volumes in service now grouped by `dims` (see Holdings)."""
    return Holdings(scope, filters, idle_since=idle_since, dims=dims).by(dims)
