"""Reads of circulation pages. Every queryset starts from `accounts.scope.scoped`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Case, Q, Value, When
from django.utils import timezone

from accounts.scope import is_site_bound, scoped, site_ids, work_sites
from circulation.models import Hold, Loan, Patron
from circulation.services.holds import free_copies, pullable_holds
from collections_app.models import Item, Site, Title, Transfer
from collections_app.selectors import sites_for
from sharedloan.prepared import fixed_cursor


def patrons_for(user):
    return scoped(Patron.objects.all(), user).select_related("home_site", "library")


def patron_search(user, query: str):
    patrons = patrons_for(user)
    query = (query or "").strip()[:50]
    if not query:
        return patrons.none()
    return patrons.filter(
        Q(card_number__iexact=query)
        | Q(card_number__istartswith=query)
        | Q(name__icontains=query)
        | Q(phone__contains=query)
    ).order_by("card_number")


def desk_sites(user):
    """The sites where `user` may lend and take returns."""
    return work_sites(sites_for(user).filter(is_active=True), user)


def open_loans(patron):
    return (
        Loan.objects.open()
        .filter(patron=patron)
        .select_related("item__title", "site")
        .order_by("due_at", "id")
    )


@dataclass(slots=True)
class DeskLoan:
    """One line of the desk's reader panel: a loan as the panel shows it, and the words the
    view writes for it."""

    id: int
    due_at: datetime
    barcode: str
    title: str
    overdue: bool = False
    title_line: str = ""
    due_line: str = ""
    order_key: str = ""


def desk_loans(patron) -> list[DeskLoan]:
    """The reader's open loans as the desk lists them after every scan: only what it shows
    (barcode, title, due date), as plain lines, not model instances. A fixed SQL string: after
    every checkout at the desk, building this query with the ORM, then four model instances a
    loan, cost more than the rest of the panel."""
    sql = (
        "SELECT l.id, l.due_at, i.barcode, t.title "
        f"FROM {Loan._meta.db_table} l "
        f"JOIN {Item._meta.db_table} i ON i.id = l.item_id "
        f"JOIN {Title._meta.db_table} t ON t.id = i.title_id "
        "WHERE l.patron_id = %s AND l.returned_at IS NULL ORDER BY l.due_at, l.id"
    )
    due_at = Loan._meta.get_field("due_at").get_col(Loan._meta.db_table)
    # What the ORM would do to the column (SQLite stores it as text without a zone).
    converters = connection.ops.get_db_converters(due_at)
    with fixed_cursor() as cursor:
        cursor.execute(sql, [patron.pk])
        rows = cursor.fetchall()
    loans = []
    for loan_id, due, barcode, title in rows:
        for convert in converters:
            due = convert(due, due_at, connection)
        loans.append(DeskLoan(id=loan_id, due_at=due, barcode=barcode, title=title))
    return loans


def past_loans(patron, limit=50):
    return (
        Loan.objects.filter(patron=patron, returned_at__isnull=False)
        .select_related("item__title", "site", "return_site")
        .order_by("-returned_at")[:limit]
    )


def patron_holds(patron):
    return (
        Hold.objects.open()
        .filter(patron=patron)
        .select_related("title", "pickup_site", "item__current_site")
        .order_by("placed_at")
    )


def overdue_loans(user, site: Site | None = None, now=None):
    now = now or timezone.now()
    loans = scoped(Loan.objects.overdue(now), user)
    if is_site_bound(user):
        loans = loans.filter(site_id__in=site_ids(user))
    if site is not None:
        loans = loans.filter(site=site)
    # The id last: pages of a list ordered by columns that repeat would overlap and skip rows.
    return loans.select_related("patron", "item__title", "site").order_by(
        "site__name", "due_at", "patron__card_number", "pk"
    )


def days_overdue(loan, now=None) -> int:
    now = now or timezone.now()
    return max(0, (timezone.localtime(now).date() - timezone.localtime(loan.due_at).date()).days)


def pending_dispatches(user, site: Site):
    """Drafts leaving `site` that the desk filled: the pile by the door, to send off."""
    from circulation.services.routing import DESK_REASONS

    return (
        scoped(Transfer.objects.filter(source=site, status=Transfer.Status.DRAFT), user)
        .filter(reason__in=DESK_REASONS)
        .select_related("destination")
        .order_by("destination__name")
    )


def hold_shelf(site: Site):
    """Holds trapped for pickup at `site`, with their copies."""
    return (
        Hold.objects.trapped()
        .filter(pickup_site=site)
        .select_related("patron", "title", "item__current_site")
        .order_by("trapped_at")
    )


def _running_display(today):
    """Whether a copy stands on a display that runs `today` (as `Display.is_running`)."""
    return Case(
        When(
            Q(display__starts_on__lte=today)
            & (Q(display__ends_on__isnull=True) | Q(display__ends_on__gte=today)),
            then=Value(True),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )


def holds_to_pull(site: Site, now=None) -> list[Hold]:
    """The holds to pull at `site` (待取预约书): waiting holds, oldest first, each paired with one
    free copy on this site's shelf, a copy offered to one hold only. Copies on a running
    display come last, so a display gives up a copy only when the shelf has no other; whether
    another site could send a copy instead is not weighed (the first desk to scan one fills
    the hold, and it drops off every other list). Each hold carries `pull_item` and `waited`
    (days since it was placed)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    copies = free_copies(site.library_id).filter(current_site=site)
    holds = list(
        pullable_holds(site.library_id, now, here=site)
        .filter(title_id__in=copies.values("title_id"))
        .select_related("title", "pickup_site")
    )
    if not holds:
        return []
    shelf: dict[int, list[Item]] = {}
    for item in (
        copies.filter(title_id__in={hold.title_id for hold in holds})
        .annotate(on_display=_running_display(today))
        .order_by("title_id", "on_display", "pk")
    ):
        shelf.setdefault(item.title_id, []).append(item)
    pulls = []
    for hold in holds:
        waiting_copies = shelf.get(hold.title_id)
        if not waiting_copies:
            continue
        hold.pull_item = waiting_copies.pop(0)
        hold.waited = (today - timezone.localtime(hold.placed_at).date()).days
        pulls.append(hold)
    return pulls


def hold_fetch_site(hold: Hold, now=None) -> Site | None:
    """For a waiting hold with no free copy at its pickup site: the site whose shelf holds the
    copy it will be fetched from, in the order the lists of holds to pull pair them (older
    holds of the title take copies first, display copies last); None when none is free."""
    now = now or timezone.now()
    if not hold.is_waiting or hold.expires_at <= now:
        return None
    copies = free_copies(hold.library_id).filter(title_id=hold.title_id)
    if copies.filter(current_site_id=hold.pickup_site_id).exists():
        return None
    ahead = (
        pullable_holds(hold.library_id, now)
        .filter(title_id=hold.title_id)
        .filter(Q(placed_at__lt=hold.placed_at) | Q(placed_at=hold.placed_at, pk__lt=hold.pk))
        .count()
    )
    items = (
        copies.filter(current_site__is_active=True)
        .annotate(on_display=_running_display(timezone.localdate(now)))
        .select_related("current_site")
        .order_by("on_display", "pk")[ahead : ahead + 1]
    )
    return next((item.current_site for item in items), None)
