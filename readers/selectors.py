"""Reads of the public catalogue besides the search: a title's copies site by site, new arrivals,
and what a service point lends most. Public pages: counts and dates only, never a reader, a
member of staff or an item's history."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min
from django.shortcuts import get_object_or_404
from django.utils import timezone

from circulation.models import Hold, Loan
from collections_app.models import Item, ItemEvent, Library, Site, Title, TransferLine

from .search import held_copies

NEW_ARRIVAL_DAYS = 30
LIST_SIZE = 20


def catalogue_libraries():
    """Libraries whose volumes readers can look up: those that lend to readers."""
    return Library.objects.filter(
        kind__in=[Library.Kind.COUNTY, Library.Kind.MUNICIPAL], sites__is_active=True
    ).distinct()


def get_catalogue_library(code: str) -> Library:
    return get_object_or_404(catalogue_libraries(), code=code)


def public_sites(library: Library):
    return Site.objects.filter(library=library, is_active=True).order_by("kind", "code")


def get_public_title(library: Library, pk: int) -> Title:
    """A title of this library with at least one copy in service; 404 otherwise."""
    return get_object_or_404(
        Title.objects.filter(library=library, pk__in=held_copies(library).values("title")),
        pk=pk,
    )


@dataclass
class SiteCopies:
    site: Site
    on_shelf: int = 0
    displays: dict = field(default_factory=dict)  # display name → copies on it
    kept_for_hold: int = 0
    on_loan: int = 0
    earliest_due: datetime | None = None
    coming: int = 0  # in transit towards this site

    @property
    def on_display(self) -> int:
        return sum(self.displays.values())

    @property
    def total(self) -> int:
        return self.on_shelf + self.on_display + self.kept_for_hold + self.on_loan + self.coming


def title_copies(library: Library, title: Title, home: Site | None) -> list[SiteCopies]:
    """Per site of the library: copies on the shelf, on a display, kept for a hold, on loan
    (with the earliest due date) and on their way there; the reader's home site first."""
    sites = {site.pk: site for site in Site.objects.filter(library=library)}
    rows: dict[int, SiteCopies] = {}

    def at(site_id: int) -> SiteCopies:
        if site_id not in rows:
            rows[site_id] = SiteCopies(sites[site_id])
        return rows[site_id]

    copies = held_copies(library).filter(title=title)
    kept = set(
        Hold.objects.filter(library=library, title=title, status=Hold.Status.TRAPPED).values_list(
            "item_id", flat=True
        )
    )
    available = copies.filter(status=Item.Status.AVAILABLE).values_list(
        "pk", "current_site", "display__name"
    )
    for pk, site_id, display in available:
        entry = at(site_id)
        if pk in kept:
            entry.kept_for_hold += 1
        elif display:
            entry.displays[display] = entry.displays.get(display, 0) + 1
        else:
            entry.on_shelf += 1
    loans = (
        Loan.objects.filter(library=library, item__title=title, returned_at__isnull=True)
        .values("item__current_site")
        .annotate(n=Count("pk"), due=Min("due_at"))
    )
    for row in loans:
        entry = at(row["item__current_site"])
        entry.on_loan, entry.earliest_due = row["n"], row["due"]
    coming = (
        TransferLine.objects.filter(
            library=library, item__title=title, is_open=True, item__status=Item.Status.IN_TRANSIT
        )
        .values("transfer__destination")
        .annotate(n=Count("pk"))
    )
    for row in coming:
        if row["transfer__destination"] in sites:
            at(row["transfer__destination"]).coming += row["n"]
    home_id = home.pk if home is not None else None
    return sorted(
        rows.values(),
        key=lambda entry: (entry.site.pk != home_id, -entry.on_shelf - entry.on_display,
                           entry.site.kind, entry.site.code),
    )  # fmt: skip


def new_arrivals(library: Library, site: Site | None, *, today: date | None = None):
    """Titles of the volumes that reached `site` (or any site) in the last 30 days and are still
    there, newest first, each with the day it came and how many copies."""
    since = timezone.now() - timedelta(days=NEW_ARRIVAL_DAYS)
    sites = [site] if site is not None else list(public_sites(library))
    arrived = ItemEvent.objects.filter(
        to_site__in=sites,
        at__gte=since,
        kind__in=[ItemEvent.Kind.RECEIVED, ItemEvent.Kind.ARRIVED],
        item__library=library,
        item__current_site__in=sites,
        item__status__in=[Item.Status.AVAILABLE, Item.Status.ON_LOAN],
    )
    if site is not None:
        arrived = arrived.filter(item__current_site=site)
    rows = (
        arrived.values("item__title")
        .annotate(came=Max("at"), copies=Count("item", distinct=True))
        .order_by("-came", "item__title")[:LIST_SIZE]
    )
    return _with_titles(rows, "item__title")


def quarter_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    first = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    return timezone.make_aware(datetime.combine(first, datetime.min.time()))


def popular(library: Library, site: Site | None):
    """本点热门: the titles lent most at `site` (or in the library) since the quarter began."""
    loans = Loan.objects.filter(library=library, checked_out_at__gte=quarter_start(timezone.now()))
    if site is not None:
        loans = loans.filter(site=site)
    rows = (
        loans.values("item__title")
        .annotate(loans=Count("pk"))
        .order_by("-loans", "item__title")[:LIST_SIZE]
    )
    return _with_titles(rows, "item__title")


def _with_titles(rows, key: str) -> list[dict]:
    rows = list(rows)
    titles = Title.objects.in_bulk([row[key] for row in rows])
    return [{**row, "title": titles[row[key]]} for row in rows if row[key] in titles]
