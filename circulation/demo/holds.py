"""The demo's holds (预约), placed after the simulated year is written, through the same services
the desk and the reader use, each told a time in the weeks before the anchor.

The services judge each request against the demo as it stands at the anchor (which copies are
out, which stand on which shelf), so the holds ask for what is plausible at the anchor: waiting
holds for titles whose every copy is out, a queue of two or three readers on the most lent of
them, holds that another site's shelf could fill (the desk's 待取预约书), copies returned at the
pickup site and trapped there, and older holds already closed (filled, cancelled, expired) so
that the reports of waiting have a history. A service that refuses a request is heard: that
request is simply not part of the demo. Each copy is acted on only after its last recorded
movement, so its history stays in order.
"""

from collections import Counter
from datetime import date, datetime, time, timedelta
from random import Random

from django.db.models import Count, Q
from django.utils import timezone

from circulation.models import Hold, Loan, Patron
from circulation.services.holds import free_copies, hold_cancel, hold_place, holds_expire
from circulation.services.loans import loan_checkout, loan_return
from collections_app.errors import Refused
from collections_app.models import Item, Library, Site, Title

# Holds per county at full scale for each 1,250 loans a year: some forty at Sui County.
LOANS_PER_HOLD = 1_250
# The shares of each kind of hold, by what happened to it by the anchor.
SHARES = {
    "waiting": 0.35,
    "ready": 0.15,
    "pull": 0.15,
    "fulfilled": 0.15,
    "cancelled": 0.1,
    "expired": 0.1,
}


def seed_holds(
    *, library: Library, librarian, anchor: date, scale: float, loans_per_year: int
) -> Counter:
    """Place the county's holds; returns how many ended in each status."""
    total = max(len(SHARES), round(loans_per_year * scale / LOANS_PER_HOLD))
    wanted = {kind: max(1, round(total * share)) for kind, share in SHARES.items()}
    return HoldSeeder(library, librarian, anchor).run(wanted)


class HoldSeeder:
    def __init__(self, library: Library, librarian, anchor: date):
        self.library, self.librarian = library, librarian
        self.rng = Random(f"sui-county-demo-holds:{library.code}")
        self.anchor = datetime.combine(anchor, time(), timezone.get_default_timezone())
        self.sites = {
            site.pk: site
            for site in Site.objects.filter(library=library, is_active=True).order_by("code")
        }
        self.readers = list(
            Patron.objects.filter(
                library=library, is_suspended=False, home_site__in=list(self.sites)
            ).order_by("card_number")
        )
        self.used_titles: set[int] = set()

    def at(self, days_before: int) -> datetime:
        """A moment in opening hours `days_before` days before the anchor."""
        minutes = self.rng.randrange(9 * 60, 17 * 60)
        return self.anchor - timedelta(days=days_before) + timedelta(minutes=minutes)

    def place(self, patron: Patron, title_id: int, pickup_id: int, now, **kwargs) -> Hold | None:
        try:
            return hold_place(
                user=self.librarian,
                patron=patron,
                title=Title.objects.get(pk=title_id),
                pickup_site=self.sites[pickup_id],
                now=now,
                **kwargs,
            )
        except Refused:
            return None

    def reader(self, exclude: set[int] = frozenset()) -> Patron:
        while True:
            patron = self.rng.choice(self.readers)
            if patron.pk not in exclude:
                return patron

    def all_out(self) -> list[tuple[int, int]]:
        """(title, copies out) of the titles whose every lendable copy is on loan, the most lent
        first."""
        rows = (
            Title.objects.filter(library=self.library)
            .exclude(pk__in=self.used_titles)
            .annotate(
                out=Count("items", filter=Q(items__status=Item.Status.ON_LOAN)),
                free=Count(
                    "items",
                    filter=Q(items__status__in=[Item.Status.AVAILABLE, Item.Status.IN_TRANSIT]),
                ),
            )
            .filter(out__gt=0, free=0)
            .order_by("-out", "isbn", "title")
            .values_list("pk", "out")
        )
        return list(rows)

    def run(self, wanted: dict[str, int]) -> Counter:
        if not self.readers:
            return Counter()
        first = self.readers[0]  # SX000001: the reader the README signs in
        self.expired(wanted["expired"])
        self.cancelled(wanted["cancelled"])
        self.fulfilled(wanted["fulfilled"])
        self.ready(wanted["ready"], first)
        self.waiting(wanted["waiting"], first)
        self.pull(wanted["pull"])
        return Counter(
            dict(
                Hold.objects.filter(library=self.library)
                .values_list("status")
                .annotate(n=Count("id"))
            )
        )

    def expired(self, count: int) -> None:
        """Holds placed some three months ago that no copy came back for in time."""
        placed = 0
        for title_id, _out in self.all_out()[::-1]:
            if placed == count:
                break
            patron = self.reader()
            if self.place(
                patron, title_id, patron.home_site_id, self.at(self.rng.randint(100, 110))
            ):
                self.used_titles.add(title_id)
                placed += 1
        if placed:
            holds_expire(now=self.at(5))

    def cancelled(self, count: int) -> None:
        """Holds the reader gave up after a week or two."""
        placed = 0
        for title_id, _out in self.all_out()[::-1]:
            if placed == count:
                break
            patron = self.reader()
            days = self.rng.randint(30, 60)
            hold = self.place(patron, title_id, patron.home_site_id, self.at(days))
            if hold is not None:
                self.used_titles.add(title_id)
                hold_cancel(user=self.librarian, hold=hold, now=self.at(days - 15))
                placed += 1

    def fulfilled(self, count: int) -> None:
        """A copy on the reader's own shelf, trapped at once, lent a day or two later and brought
        back within the weeks before the anchor."""
        done = 0
        days = self.rng.randint(35, 45)
        quiet_since = self.anchor - timedelta(days=days + 1)
        busy_titles = (
            free_copies(self.library.pk)
            .filter(status_changed_at__gte=quiet_since)
            .values("title_id")
        )
        copies = list(
            free_copies(self.library.pk)
            .filter(status_changed_at__lt=quiet_since, current_site_id__in=list(self.sites))
            .exclude(title_id__in=busy_titles)
            .exclude(title_id__in=self.used_titles)
            .order_by("barcode")
            .values_list("title_id", "current_site_id")[:200]
        )
        self.rng.shuffle(copies)
        for title_id, site_id in copies:
            if done == count:
                break
            if title_id in self.used_titles:
                continue
            patron = self.reader()
            hold = self.place(patron, title_id, site_id, self.at(days))
            if hold is None:
                continue
            self.used_titles.add(title_id)
            if not hold.is_trapped:
                hold_cancel(user=self.librarian, hold=hold, now=self.at(days - 1))
                continue
            site, barcode = self.sites[site_id], hold.item.barcode
            try:
                loan_checkout(
                    user=self.librarian,
                    site=site,
                    barcode=barcode,
                    patron=patron,
                    now=self.at(days - self.rng.randint(1, 3)),
                )
            except Refused:
                hold_cancel(user=self.librarian, hold=hold, now=self.at(days - 4))
                continue
            loan_return(
                user=self.librarian,
                site=site,
                barcode=barcode,
                now=self.at(days - self.rng.randint(10, 25)),
            )
            done += 1

    def ready(self, count: int, first: Patron) -> None:
        """Copies returned at the reader's pickup site in the last days, now on its hold shelf;
        the demo reader has one of them."""
        done = 0
        readers = [first]
        for title_id, _out in self.all_out():
            if done == count:
                break
            loan = (
                Loan.objects.open()
                .filter(item__title_id=title_id, checked_out_at__lt=self.anchor - timedelta(15))
                .select_related("item")
                .order_by("item__barcode")
                .first()
            )
            if loan is None:
                continue
            patron = readers.pop() if readers else self.reader({loan.patron_id})
            hold = self.place(patron, title_id, patron.home_site_id, self.at(14))
            if hold is None:
                readers = [patron] if patron == first else readers
                continue
            self.used_titles.add(title_id)
            loan_return(
                user=self.librarian,
                site=self.sites[patron.home_site_id],
                barcode=loan.item.barcode,
                now=self.at(self.rng.randint(1, 3)),
            )
            done += 1

    def waiting(self, count: int, first: Patron) -> None:
        """Readers waiting for titles with every copy out: two or three in the queue for the
        most lent of them, one for the rest; the demo reader waits for one."""
        placed = 0
        readers = [first]
        for n, (title_id, _out) in enumerate(self.all_out()):
            if placed >= count:
                break
            queue = self.rng.randint(2, 3) if n < 3 else 1
            waiting = set()
            for _ in range(queue):
                patron = readers.pop() if readers else self.reader(waiting)
                hold = self.place(
                    patron, title_id, patron.home_site_id, self.at(self.rng.randint(1, 21))
                )
                if hold is None:
                    readers = [patron] if patron == first else readers
                    continue
                waiting.add(patron.pk)
                placed += 1
            if waiting:
                self.used_titles.add(title_id)

    def pull(self, count: int) -> None:
        """Holds for a title standing free on another site's shelf only, for the desk there to
        send (待取预约书); copies that shelf has not lent for a season, so that the rotation page
        also sees a reader waiting at one site for a copy idle at another."""
        idle = Q(last_loan_at__isnull=True) | Q(last_loan_at__lt=self.anchor - timedelta(120))
        shelves: dict[int, set[int]] = {}
        for title_id, site_id in (
            free_copies(self.library.pk)
            .filter(idle, display__isnull=True, current_site_id__in=list(self.sites))
            .exclude(title_id__in=self.used_titles)
            .values_list("title_id", "current_site_id")
        ):
            shelves.setdefault(title_id, set()).add(site_id)
        titles = sorted(shelves)
        self.rng.shuffle(titles)
        placed = 0
        for title_id in titles:
            if placed == count:
                break
            patron = self.reader()
            if patron.home_site_id in shelves[title_id]:
                continue
            hold = self.place(
                patron, title_id, patron.home_site_id, self.at(self.rng.randint(1, 10))
            )
            if hold is not None:
                self.used_titles.add(title_id)
                placed += 1
