"""Reads for the collection pages. Every queryset starts from `accounts.scope.scoped`."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import scoped
from collections_app.models import (
    Display,
    Item,
    ItemEvent,
    Site,
    Transfer,
    TransferLine,
    clc_top_names,
)

# Items that take shelf room at their site now: on the shelf, or out on loan and coming back.
HELD_STATUSES = (Item.Status.AVAILABLE, Item.Status.ON_LOAN)


def items_for(user):
    return scoped(Item.objects.all(), user).select_related(
        "title", "current_site", "home_site", "library", "display", "consignment"
    )


# Central library first, then branches, then service points (the codes sort otherwise).
SITE_KIND_ORDER = Case(
    When(kind=Site.Kind.CENTRAL, then=Value(0)),
    When(kind=Site.Kind.BRANCH, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def sites_for(user):
    return (
        scoped(Site.objects.all(), user)
        .select_related("library", "parent")
        .order_by("library__code", SITE_KIND_ORDER, "code")
    )


def held_counts_by_site(user, sites) -> dict[int, int]:
    """Items held now per site id, counting only the items the user may see."""
    rows = (
        scoped(Item.objects.all(), user)
        .filter(current_site__in=[site.pk for site in sites], status__in=HELD_STATUSES)
        .values("current_site")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["current_site"]: row["n"] for row in rows}


def site_status_counts(user, site) -> list[dict]:
    """Every item status with its count at `site` (zeros included), in the order of Status."""
    rows = (
        scoped(Item.objects.all(), user)
        .filter(current_site=site)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {row["status"]: row["n"] for row in rows}
    return [
        {"status": value, "label": label, "count": counts.get(value, 0)}
        for value, label in Item.Status.choices
    ]


def site_displays(user, site):
    return (
        scoped(Display.objects.filter(site=site), user)
        .annotate(item_count=Count("items", filter=Q(items__current_site=site)))
        .order_by("-starts_on")
    )


def item_history(item):
    return ItemEvent.objects.for_item(item).select_related("transfer").order_by("at", "id")


def item_loans(user, item):
    """The item's loans with their readers, for staff of the item's own library; an empty list
    for everyone else (readers' data stays in their library), plus the number of loans, which
    anyone who may see the item may know. Reached through the reverse relation so that
    collections_app does not import circulation."""
    loans = scoped(item.loans.all(), user).select_related("patron", "site", "return_site")
    return list(loans), item.loans.count()


def transferable_items(
    source: Site,
    *,
    consignment=None,
    clc_top: str = "",
    idle_days: int | None = None,
    on_display: bool | None = None,
):
    """Items that could go on a transfer from `source` now, the longest idle first: on the
    shelf there, on no open transfer, matching the librarian's filters."""
    items = (
        # Boxed volumes travel with their box (services.boxes), never one by one.
        Item.objects.filter(current_site=source, status=Item.Status.AVAILABLE, box__isnull=True)
        .exclude(transfer_lines__is_open=True)
        .select_related("title")
    )
    if consignment is not None:
        items = items.filter(consignment=consignment)
    if clc_top:
        items = items.filter(title__clc_top=clc_top)
    if idle_days:
        since = timezone.now() - timedelta(days=idle_days)
        items = items.filter(Q(last_loan_at__isnull=True) | Q(last_loan_at__lt=since))
    if on_display is not None:
        items = items.filter(display__isnull=not on_display)
    return items.order_by(F("last_loan_at").asc(nulls_first=True), "call_number", "pk")


def with_line_counts(transfers):
    return transfers.annotate(
        line_count=Count("lines", filter=~Q(lines__state=TransferLine.State.EXTRA)),
        pending_count=Count("lines", filter=Q(lines__state=TransferLine.State.PENDING)),
    ).order_by("-created_at", "-pk")  # one run's transfers share their creation time


def line_counts(transfer: Transfer) -> dict[str, int]:
    """Lines of a transfer per state, plus the total of lines that were sent."""
    rows = transfer.lines.values("state").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(TransferLine.State.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    counts["total"] = sum(n for state, n in counts.items() if state != TransferLine.State.EXTRA)
    return counts


def transit_overdue_days() -> int:
    return settings.TRANSIT_OVERDUE_DAYS


def in_transit(user) -> list[Transfer]:
    """Every dispatched transfer in the user's scope, the oldest first, with its days on the way
    and whether it is overdue."""
    transfers = list(
        with_line_counts(scoped(Transfer.objects.in_transit(), user))
        .select_related("library", "source", "destination")
        .order_by("dispatched_at")
    )
    now = timezone.now()
    limit = timedelta(days=transit_overdue_days())
    for transfer in transfers:
        transfer.in_transit_for = now - transfer.dispatched_at
        transfer.is_overdue = transfer.in_transit_for > limit
    return transfers


def _transit_summary(transfers, key) -> list[dict]:
    rows: dict = {}
    for transfer in transfers:
        row = rows.setdefault(
            key(transfer), {"transfers": 0, "volumes": 0, "overdue": 0, "oldest_days": 0}
        )
        row["transfers"] += 1
        row["volumes"] += transfer.pending_count
        row["overdue"] += transfer.is_overdue
        row["oldest_days"] = max(row["oldest_days"], transfer.in_transit_for.days)
    return [{"name": name, **row} for name, row in rows.items()]


def transit_by_library(transfers) -> list[dict]:
    return _transit_summary(transfers, lambda transfer: transfer.library.name)


def transit_by_destination(transfers) -> list[dict]:
    return _transit_summary(
        transfers,
        lambda transfer: transfer.destination.name if transfer.destination else _("国家图书馆"),
    )


def pick_list(transfer: Transfer) -> list[dict]:
    """The lines to fetch from the shelves, grouped by CLC class and in call-number order."""
    lines = (
        transfer.lines.exclude(state=TransferLine.State.EXTRA)
        .select_related("item__title", "item__display")
        .order_by("item__title__clc_top", "item__call_number", "item__barcode")
    )
    names = clc_top_names()
    groups: dict[str, dict] = {}
    for line in lines:
        top = line.item.title.clc_top
        group = groups.setdefault(top, {"code": top, "name": names.get(top, ""), "lines": []})
        group["lines"].append(line)
    return list(groups.values())


# Holds live in circulation, which depends on this app and not the reverse: a copy trapped for a
# reader is found through the reverse relation of Hold.item, by its status value.
HOLD_TRAPPED = "trapped"


def trapped_for_readers(item_ids) -> set[int]:
    """The ids among `item_ids` of copies kept for a reader's hold: nobody may move, lend to
    another or write off the very copy a reader has been told to collect."""
    ids = list(item_ids)
    trapped: set[int] = set()
    for start in range(0, len(ids), 5000):
        trapped.update(
            Item.objects.filter(
                pk__in=ids[start : start + 5000], holds__status=HOLD_TRAPPED
            ).values_list("pk", flat=True)
        )
    return trapped
