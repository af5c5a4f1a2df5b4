"""Dashboard figures. Each figure is one set-based aggregate query restricted through
`accounts.scope`; Python only arranges the aggregated rows (a handful per site or library)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.scope import countable_loans, scoped, site_ids
from circulation.models import Patron
from collections_app.models import Consignment, Item, Library, Transfer
from collections_app.selectors import sites_for


def month_start(moment, months_back=0):
    """Local midnight on the first day of the month of `moment`, `months_back` months earlier."""
    local = timezone.localtime(moment)
    index = local.year * 12 + local.month - 1 - months_back
    return local.replace(
        year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )


def status_by_site(user) -> dict:
    """Items by status (columns) and current site (rows), with totals both ways."""
    rows = (
        scoped(Item.objects.all(), user)
        .values("current_site", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {(row["current_site"], row["status"]): row["n"] for row in rows}
    with_items = {site_id for site_id, _ in counts}
    statuses = Item.Status.choices
    table = []
    for site in sites_for(user):
        if site.is_active or site.pk in with_items:
            cells = [counts.get((site.pk, value), 0) for value, _ in statuses]
            table.append({"site": site, "counts": cells, "total": sum(cells)})
    totals = [sum(row["counts"][i] for row in table) for i in range(len(statuses))]
    return {
        "statuses": [label for _, label in statuses],
        "rows": table,
        "totals": totals,
        "total": sum(totals),
    }


def loan_figures(user, now) -> dict:
    this_month, last_month = month_start(now), month_start(now, 1)
    return countable_loans(user).aggregate(
        this_month=Count("id", filter=Q(checked_out_at__gte=this_month)),
        last_month=Count(
            "id", filter=Q(checked_out_at__gte=last_month, checked_out_at__lt=this_month)
        ),
        open=Count("id", filter=Q(returned_at__isnull=True)),
        overdue=Count("id", filter=Q(returned_at__isnull=True, due_at__lt=now)),
    )


def transit_figures(user, now, oldest=5) -> dict:
    """Dispatched transfers: how many, how many overdue, and the oldest few."""
    cutoff = now - timedelta(days=settings.TRANSIT_OVERDUE_DAYS)
    transfers = scoped(Transfer.objects.in_transit(), user)
    figures = transfers.aggregate(
        count=Count("id"), overdue=Count("id", filter=Q(dispatched_at__lt=cutoff))
    )
    figures["oldest"] = (
        transfers.select_related("source", "destination")
        .annotate(
            item_count=Count("lines"),
            is_overdue=ExpressionWrapper(Q(dispatched_at__lt=cutoff), BooleanField()),
        )
        .order_by("dispatched_at", "id")[:oldest]
    )
    figures["overdue_days"] = settings.TRANSIT_OVERDUE_DAYS
    return figures


def reader_count(user) -> int:
    """Readers registered in the user's library; site staff count those of their sites."""
    patrons = scoped(Patron.objects.all(), user)
    if user.is_site_staff:
        patrons = patrons.filter(home_site_id__in=site_ids(user))
    return patrons.count()


def loans_per_month(user, now, months=12) -> list[dict]:
    """Loans per calendar month over the last `months` months, oldest first, zeros included."""
    rows = (
        countable_loans(user)
        .filter(checked_out_at__gte=month_start(now, months - 1))
        .annotate(month=TruncMonth("checked_out_at"))
        .values("month")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {timezone.localtime(row["month"]).date(): row["n"] for row in rows}
    starts = [month_start(now, back).date() for back in reversed(range(months))]
    return [{"month": start, "count": counts.get(start, 0)} for start in starts]


# 停止流通 as the tables' legend says: missing, damaged, withdrawn or returned to the lender.
# Volumes listed in a manifest and not received yet (待验收) are a column of their own, so that
# held = available + on loan + in transit + expected + stopped.
STOPPED = tuple(status for status in Item.OUT_OF_SERVICE if status != Item.Status.EXPECTED)


def _item_figures(user, key) -> dict:
    rows = (
        scoped(Item.objects.all(), user)
        .values(key)
        .annotate(
            held=Count("id"),
            available=Count("id", filter=Q(status=Item.Status.AVAILABLE)),
            on_loan=Count("id", filter=Q(status=Item.Status.ON_LOAN)),
            in_transit=Count("id", filter=Q(status=Item.Status.IN_TRANSIT)),
            expected=Count("id", filter=Q(status=Item.Status.EXPECTED)),
            out_of_service=Count("id", filter=Q(status__in=STOPPED)),
        )
        .order_by()
    )
    return {row.pop(key): row for row in rows}


def _loan_figures(user, key, now) -> dict:
    rows = (
        countable_loans(user)
        .filter(checked_out_at__gte=month_start(now))
        .values(key)
        .annotate(loans=Count("id"), readers=Count("patron", distinct=True))
        .order_by()
    )
    return {row.pop(key): row for row in rows}


FIGURES = (
    "held",
    "available",
    "on_loan",
    "in_transit",
    "expected",
    "out_of_service",
    "loans",
    "readers",
)


def _table(objects, items, loans) -> dict:
    zeros = dict.fromkeys(FIGURES, 0)
    rows = [
        {"object": obj, **zeros, **items.get(obj.pk, {}), **loans.get(obj.pk, {})}
        for obj in objects
    ]
    totals = {name: sum(row[name] for row in rows) for name in FIGURES}
    return {"rows": rows, "totals": totals}


def libraries_table(user, now, libraries) -> dict:
    """One row per library: items held and by state, loans and readers served this month."""
    return _table(libraries, _item_figures(user, "library"), _loan_figures(user, "library", now))


def consignments_table(user, now) -> dict:
    consignments = scoped(Consignment.objects.select_related("library", "lender"), user)
    return _table(
        consignments,
        _item_figures(user, "consignment"),
        _loan_figures(user, "item__consignment", now),
    )


def dashboard(user, now=None) -> dict:
    """Everything the home page shows for `user`; `kind` names the variant."""
    now = now or timezone.now()
    figures = {"now": now, "loans_by_month": loans_per_month(user, now)}
    if user.is_superuser or user.is_lender:
        receiving = Library.objects.filter(
            pk__in=scoped(Consignment.objects.all(), user).values("library")
        )
        figures.update(
            kind="lender",
            libraries=libraries_table(user, now, receiving),
            consignments=consignments_table(user, now),
        )
    elif user.is_provincial:
        counties = scoped(Library.objects.filter(province_id=user.library_id), user)
        figures.update(kind="province", libraries=libraries_table(user, now, counties))
    elif user.is_librarian or user.is_site_staff:
        figures.update(
            kind="local",
            by_site=status_by_site(user),
            loans=loan_figures(user, now),
            transit=transit_figures(user, now),
            readers=reader_count(user),
        )
    else:
        figures["kind"] = "none"
    return figures
