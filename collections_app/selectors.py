"""Reads for the collection pages. Every queryset starts from `accounts.scope.scoped`."""

from django.db.models import Case, Count, IntegerField, Q, Value, When

from accounts.scope import scoped
from collections_app.models import Display, Item, ItemEvent, Site

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
