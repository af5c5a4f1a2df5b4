"""The life of one county's consignment, simulated in memory day by day.

The volumes are received at the central library and allocated to branches and service points
shortly after they arrive (2021); then comes the simulated year that ends the day before the
anchor date: loans, renewals and returns, weekly return-home runs for volumes returned at the
central library, quarterly rotations between service points, a stock check, a showcase. What is
left at the anchor (open loans, transfers in transit, drafts, missing and damaged volumes) is a
consistent picture of a working system.

State changes that make a volume available (a return, an arrival) take effect the next day,
the way a returned book is reshelved; transfers leave at 08:30 before opening. So the events of
one volume never interleave within a day, and its history reads in order.

Everything is plain Python: ints for days (date ordinals) and volumes (list positions), the
writer turns them into rows. One random.Random with a fixed seed drives it all, so the same
anchor always gives the same county.

The simulation keeps the rules of the services, asking their own predicates where they can be
asked of a volume in memory (see `Desk`): a volume goes on a transfer only when
`transfers.item_refusal` lets it and it is on no other open transfer (the partial unique index);
it is lent only from the shelf of the lending site, when the desk's shelf check lets it, to a
reader under the loan limit and with nothing overdue, by the loan rule `rules.rule_among` picks
among the rules the writer stores; its due date is `due_dates.end_of_day` of the day the rule
gives. A reader's returns free a place from the next day on, so no checkout of the day, at
whatever hour, would have met the limit at the desk. Every change of a volume writes its history
row the way `items.item_transition` does, so the last row always names the volume's status and
site. The demo has no book boxes, holds or closed days.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from random import Random

from circulation.due_dates import end_of_day
from circulation.models import LoanRule
from circulation.services.loans import _shelf_refusal
from circulation.services.rules import rule_among
from collections_app.models import Display, Item, ItemEvent, Site, Title, Transfer, TransferLine
from collections_app.services.transfers import REHOMING_REASONS, item_refusal

from .people import PatronRow, generate_patrons, loan_rules
from .places import SITES, SiteSpec
from .readers import PROFILES, day_factor
from .titles import TitleRecord, generate

Status, Kind = Item.Status, ItemEvent.Kind
CENTRAL = "central"
CLASSES = "ABCDEFGHIJKNOPQRSTUVXZ"
NEVER = 10**7  # a day ordinal no simulation reaches: the loan is never returned


class BrokenRule(AssertionError):
    """The simulation was about to do what a service refuses: a fault of the simulation."""


class Desk:
    """The services' rules, asked of the simulation's volumes.

    `item_refusal` (may a volume go on a transfer from here?) and the desk's shelf check (may it
    be lent here?) read only a volume's library, status and site, so they are asked through one
    unsaved Item whose fields are set to the volume's, and each answer is kept per (status,
    site, here): the rules stay the services' own and cost the simulation a dict lookup. The
    loan rules are the unsaved rows the writer stores, chosen as the desk chooses them.
    """

    def __init__(self, sites: dict[str, SiteSpec]):
        self.sites = {
            code: Site(pk=n, library_id=0, code=code, name=spec.name, kind=spec.kind)
            for n, (code, spec) in enumerate(sites.items(), start=1)
        }
        self.volume = Item(library_id=0, title=Title(library_id=0, title="（模拟）"))
        self.loan_rules = loan_rules(None)
        self.answers: dict[tuple, str | None] = {}
        self.rules: dict[tuple[str, str], LoanRule | None] = {}

    def _ask(self, rule, status: str, at: str, here: str) -> str | None:
        key = (rule, status, at, here)
        if key not in self.answers:
            self.volume.status = status
            self.volume.current_site = self.sites[at]
            self.answers[key] = rule(self.volume, self.sites[here])
        return self.answers[key]

    def move_refusal(self, status: str, at: str, source: str) -> str | None:
        return self._ask(item_refusal, status, at, source)

    def lend_refusal(self, status: str, at: str, site: str) -> str | None:
        if status == Status.ON_LOAN:
            return "已借出"
        return self._ask(_shelf_refusal, status, at, site)

    def loan_rule(self, category: str, site: str) -> LoanRule | None:
        key = (category, site)
        if key not in self.rules:
            kind = self.sites[site].kind
            self.rules[key] = rule_among(self.loan_rules, category=category, site_kind=kind)
        return self.rules[key]


@dataclass(frozen=True)
class County:
    library: str
    reference: str
    agreement: date
    received: date
    volumes: int
    series: int  # the two digits after "NL" in its barcodes
    card_prefix: str
    patrons: int
    loans_per_year: int
    with_marc: bool
    showcase_site: str = ""


class Shelf:
    """Volumes available at one site in one class: random pick and removal in O(1)."""

    __slots__ = ("items", "where")

    def __init__(self):
        self.items: list[int] = []
        self.where: dict[int, int] = {}

    def __len__(self):
        return len(self.items)

    def add(self, item: int) -> None:
        self.where[item] = len(self.items)
        self.items.append(item)

    def remove(self, item: int) -> None:
        pos = self.where.pop(item)
        last = self.items.pop()
        if last != item:
            self.items[pos] = last
            self.where[last] = pos

    def pick(self, rng: Random) -> int:
        return self.items[rng.randrange(len(self.items))]


@dataclass
class Plan:
    """Everything the writer needs for one county, indexes instead of primary keys."""

    county: County
    anchor: date
    window_start: date
    titles: list[TitleRecord]
    patrons: list[PatronRow]
    # per volume
    title: list[int] = field(default_factory=list)
    barcode: list[str] = field(default_factory=list)
    call_number: list[str] = field(default_factory=list)
    home: list[str] = field(default_factory=list)
    site: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    display: list[int | None] = field(default_factory=list)
    changed_at: list[datetime] = field(default_factory=list)
    last_loan_at: list[datetime | None] = field(default_factory=list)
    # (site, name, kind, starts_on, ends_on)
    displays: list[tuple[str, str, str, date, date | None]] = field(default_factory=list)
    # [source, destination, reason, status, created_at, dispatched_at, received_at, note]
    transfers: list[list] = field(default_factory=list)
    # (transfer, volume, state, is_open)
    lines: list[tuple[int, int, str, bool]] = field(default_factory=list)
    # [volume, patron, site, display, checked_out_at, due_at, returned_at, return_site, renewals]
    loans: list[list] = field(default_factory=list)
    # (volume, kind, at, from_status, to_status, from_site, to_site, transfer, note)
    events: list[tuple] = field(default_factory=list)


class Simulation:
    def __init__(self, county: County, anchor: date, scale: float, tz: tzinfo):
        self.county = county
        self.anchor = anchor
        self.scale = scale
        self.tz = tz
        # One stream per county, so one county's data does not depend on the other's.
        self.rng = Random(f"sui-county-demo:{county.library}")
        self.sites: dict[str, SiteSpec] = {s.code: s for s in SITES[county.library]}
        self.points = [s.code for s in SITES[county.library] if s.kind == Site.Kind.SERVICE_POINT]
        self.shelves: dict[tuple[str, str], Shelf] = defaultdict(Shelf)
        self.ready: dict[int, list[int]] = defaultdict(list)  # day → volumes reshelved that day
        self.returns: dict[int, list[int]] = defaultdict(list)  # day → loans returned that day
        self.renewals: dict[int, list[int]] = defaultdict(list)  # day → loans renewed that day
        self.arrivals: dict[int, list[int]] = defaultdict(list)  # day → transfers arriving
        self.away: dict[int, None] = {}  # volumes returned at the central library, not theirs
        self.loan_plan: dict[int, tuple[int, str, LoanRule]] = {}  # loan → (back, site, rule)
        self.due_day: list[int] = []  # loan → its due day as of today (renewals move it)
        self.released: dict[int, list[int]] = defaultdict(list)  # day → loans no longer held
        self.on_transfer: dict[int, int] = {}  # volume → its open transfer
        self.desk = Desk(self.sites)
        self.tastes: dict[str, list[tuple[float, Shelf]]] = {}  # site → (taste, shelf) per class
        self.damaged_by: list[tuple[int, int]] = []  # (patron, day)
        self.lines_of: dict[int, list[int]] = defaultdict(list)  # transfer → its line positions
        self.display_of: dict[int, int] = {}  # transfer → the display its volumes go on

    # --- time -------------------------------------------------------------------------------

    def at(self, day: int, minutes: int) -> datetime:
        """The moment `minutes` after midnight of day `day`, in the library's time zone."""
        midnight = datetime.combine(date.fromordinal(day), time(), self.tz)
        return midnight + timedelta(minutes=minutes)

    def opening_hours(self, day: int) -> datetime:
        return self.at(day, self.rng.randint(9 * 60, 18 * 60 + 30))

    # --- volume state -----------------------------------------------------------------------

    def transition(self, item, kind, at, to_status=None, to_site=None, transfer=None, note=""):
        """One change of a volume and its history row, as `items.item_transition` writes them:
        the row reads the volume's status and site before the change; no `to_status` keeps the
        status (and its time), no `to_site` the site."""
        p = self.plan
        status, site = p.status[item], p.site[item]
        to_site = site if to_site is None else to_site
        p.events.append(
            (item, kind, at, status, to_status or status, site, to_site, transfer, note)
        )
        if to_status is not None:
            p.status[item] = to_status
            p.changed_at[item] = at
        p.site[item] = to_site

    def shelve(self, item: int) -> None:
        self.shelves[self.plan.site[item], self.top[item]].add(item)

    def unshelve(self, item: int) -> None:
        shelf = self.shelves[self.plan.site[item], self.top[item]]
        if item in shelf.where:
            shelf.remove(item)

    def move_refusal(self, item: int, source: str) -> str | None:
        """Why the transfer service would refuse `item` on a new transfer from `source`."""
        if item in self.on_transfer:
            return "已在其他未完结的调拨单中"
        p = self.plan
        return self.desk.move_refusal(p.status[item], p.site[item], source)

    def movable(self, items, source: str) -> list[int]:
        return [i for i in items if self.move_refusal(i, source) is None]

    def on_shelf(self, site: str) -> list[int]:
        return [i for top in CLASSES for i in self.shelves[site, top].items]

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> Plan:
        county, rng = self.county, self.rng
        receipt = county.received.toordinal()
        allocation = receipt + 10
        end = self.anchor.toordinal()
        start = max(end - 365, allocation + 30)
        volumes = max(len(CLASSES), round(county.volumes * self.scale))
        titles = generate(rng, volumes, county.with_marc)
        patrons = generate_patrons(
            rng,
            prefix=county.card_prefix,
            count=max(20, round(county.patrons * self.scale)),
            sites=tuple(self.sites.values()),
            anchor=self.anchor,
            opened_on=date.fromordinal(start - 200),
        )
        self.plan = Plan(county, self.anchor, date.fromordinal(start), titles, patrons)
        self.catalogue(titles)
        self.receive(receipt)
        self.allocate(allocation)
        self.open_shelf(allocation + 3)
        self.prepare_readers(start)
        self.daily_rate(end)
        showcase = self.showcase_day(start, end)
        for day in range(allocation, end):
            for loan in self.released.pop(day, ()):
                self.holding[self.plan.loans[loan][1]].remove(loan)
            for item in self.ready.pop(day, ()):
                if self.plan.status[item] == Status.AVAILABLE:
                    self.shelve(item)
            if day < start:
                # Before the simulated year only the allocation is on its way.
                for transfer in self.arrivals.pop(day, ()):
                    self.arrive(transfer, day)
                continue
            if day == showcase:
                self.showcase(day)
            if date.fromordinal(day).weekday() == 0 or day == end - 1:
                self.send_home(day, last=day == end - 1)
            if self.is_rotation_day(day):
                self.rotate(day)
            if day == end - 45:
                self.stock_check(day)
            for loan in self.renewals.pop(day, ()):
                self.renew(loan, day)
            for loan in self.returns.pop(day, ()):
                self.give_back(loan, day)
            self.lend(day)
            for transfer in self.arrivals.pop(day, ()):
                self.arrive(transfer, day)
        self.draft_transfers(end - 1)
        self.suspend_readers(end)
        return self.plan

    # --- before the year --------------------------------------------------------------------

    def catalogue(self, titles: list[TitleRecord]) -> None:
        p, number = self.plan, 0
        book_numbers: dict[str, int] = defaultdict(int)
        self.top: list[str] = []
        for index, record in enumerate(titles):
            book_numbers[record.clc] += 1
            call_number = f"{record.clc}/{book_numbers[record.clc]}"
            for _copy in range(record.copies):
                number += 1
                p.title.append(index)
                p.barcode.append(f"NL{self.county.series:02d}{number:06d}")
                p.call_number.append(call_number)
                p.home.append(CENTRAL)
                p.site.append(CENTRAL)
                p.status.append(Status.EXPECTED)  # on the manifest, not yet scanned in
                p.display.append(None)
                p.changed_at.append(None)
                p.last_loan_at.append(None)
                self.top.append(record.clc_top)

    def receive(self, receipt: int) -> None:
        # A consignment is checked in over a working week, box after box.
        p = self.plan
        per_day = len(p.barcode) // 5 + 1
        for item in range(len(p.barcode)):
            day = receipt + item // per_day
            at = self.at(day, 9 * 60 + (item % per_day) * 480 // per_day)
            self.transition(
                item,
                Kind.RECEIVED,
                at,
                Status.AVAILABLE,
                to_site=CENTRAL,
                note=self.county.reference,
            )

    def allocate(self, day: int) -> None:
        """Spread the volumes from the central library, each site stocked to its readers' taste."""
        rng, pool = self.rng, defaultdict(list)
        for item, top in enumerate(self.top):
            pool[top].append(item)
        targets = sorted(
            (s for s in self.sites.values() if s.code != CENTRAL),
            key=lambda s: s.kind != Site.Kind.SERVICE_POINT,  # points first: they are choosier
        )
        for spec in targets:
            profile = PROFILES[spec.profile]
            chosen = []
            for _n in range(round(spec.stock * self.scale)):
                tops = [t for t in CLASSES if pool[t]]
                if not tops:
                    break
                top = rng.choices(tops, [profile.taste(t) * len(pool[t]) for t in tops])[0]
                bucket = pool[top]
                pos = rng.randrange(len(bucket))
                bucket[pos], bucket[-1] = bucket[-1], bucket[pos]
                chosen.append(bucket.pop())
            if chosen:
                self.move(
                    chosen,
                    CENTRAL,
                    spec.code,
                    Transfer.Reason.ALLOCATION,
                    day,
                    note="共享借阅图书首次分配",
                    transit=(1, 2),
                )

    def open_shelf(self, day: int) -> None:
        """The 国图文献专架 at the central library: well-loved classes on show from the start."""
        p, rng = self.plan, self.rng
        p.displays.append(
            (CENTRAL, "国图文献专架", Display.Kind.SHELF, date.fromordinal(day), None)
        )
        index = len(p.displays) - 1
        candidates = [
            i
            for i in range(len(p.site))
            if p.site[i] == CENTRAL and p.status[i] == Status.AVAILABLE and self.top[i] in "IKJ"
        ]
        for item in rng.sample(candidates, min(len(candidates), round(240 * self.scale) or 1)):
            p.display[item] = index
            self.transition(item, Kind.DISPLAYED, self.at(day, 10 * 60), note="国图文献专架")
        for item in range(len(p.site)):
            if p.status[item] == Status.AVAILABLE:
                self.shelve(item)

    def prepare_readers(self, start: int) -> None:
        p = self.plan
        self.pool: dict[str, tuple[list[int], list[float]]] = {}
        by_site: dict[str, list[int]] = defaultdict(list)
        for index, patron in enumerate(p.patrons):
            by_site[patron.home].append(index)
        everyone = list(range(len(p.patrons)))
        for code in self.sites:
            members = by_site[code] or everyone
            self.pool[code] = (members, _cumulative([p.patrons[i].activity for i in members]))
        self.pool[""] = (everyone, _cumulative([r.activity for r in p.patrons]))
        self.registered = [r.registered_on.toordinal() for r in p.patrons]
        self.holding: list[list[int]] = [[] for _patron in p.patrons]  # patron → open loans

    def daily_rate(self, end: int) -> None:
        """Loans per day and site, so that an average year gives the county its loan volume."""
        self.rate: dict[str, float] = {}
        total_share = sum(s.loans for s in self.sites.values())
        year = [date.fromordinal(d) for d in range(end - 365, end)]
        for code, spec in self.sites.items():
            profile = PROFILES[spec.profile]
            mean = sum(day_factor(profile, d) for d in year) / len(year)
            per_year = self.county.loans_per_year * self.scale * spec.loans / total_share
            self.rate[code] = per_year / 365 / mean

    # --- transfers --------------------------------------------------------------------------

    def draft(self, items, source, destination, reason, created, note) -> int:
        """A draft transfer holding `items`: all of them, or a BrokenRule naming each refusal,
        as `transfer_add_items` and the one-open-transfer index would answer."""
        p = self.plan
        refused = [(item, why) for item in items if (why := self.move_refusal(item, source))]
        if refused or len(set(items)) != len(items):
            raise BrokenRule(f"{self.county.library} {source}→{destination}: {refused[:10]}")
        index = len(p.transfers)
        p.transfers.append(
            [source, destination, reason, Transfer.Status.DRAFT, created, None, None, note]
        )
        for item in items:
            self.unshelve(item)  # reserved: off the shelf that lending and moves pick from
            self.on_transfer[item] = index
            self.lines_of[index].append(len(p.lines))
            p.lines.append((index, item, TransferLine.State.PENDING, True))
        return index

    def move(
        self, items, source, destination, reason, day, *, note="", transit=(1, 3), arrive_after=0
    ) -> int:
        p, rng = self.plan, self.rng
        created = self.at(day - 1, rng.randint(14 * 60, 17 * 60))
        index = self.draft(items, source, destination, reason, created, note)
        dispatched = self.at(day, 8 * 60 + 30)
        p.transfers[index][3] = Transfer.Status.DISPATCHED
        p.transfers[index][5] = dispatched
        for item in items:
            # The volume stays at its source until it is received; the row names the transfer.
            self.transition(item, Kind.DISPATCHED, dispatched, Status.IN_TRANSIT, transfer=index)
        self.arrivals[max(day + rng.randint(*transit), arrive_after)].append(index)
        return index

    def arrive(self, transfer: int, day: int) -> None:
        p = self.plan
        destination, reason = p.transfers[transfer][1:3]
        received = self.at(day, self.rng.randint(14 * 60, 16 * 60))
        for n in self.lines_of.pop(transfer):
            item = p.lines[n][1]
            p.lines[n] = (transfer, item, TransferLine.State.RECEIVED, False)
            del self.on_transfer[item]
            if reason in REHOMING_REASONS:
                p.home[item] = destination
            self.transition(item, Kind.ARRIVED, received, Status.AVAILABLE, destination, transfer)
            if transfer in self.display_of:
                p.display[item] = self.display_of[transfer]
            self.ready[day + 1].append(item)
        p.transfers[transfer][3] = Transfer.Status.RECEIVED
        p.transfers[transfer][6] = received

    def send_home(self, day: int, last: bool) -> None:
        """Volumes returned at the central library go back to their own site once a week."""
        p, going = self.plan, defaultdict(list)
        for item in list(self.away):
            if p.status[item] == Status.AVAILABLE and p.site[item] == CENTRAL:
                if item in self.shelves[CENTRAL, self.top[item]].where:
                    del self.away[item]
                    going[p.home[item]].append(item)
            elif p.status[item] != Status.ON_LOAN:
                del self.away[item]
        for home, items in going.items():
            # The last run before the anchor is still on the road when the demo opens.
            self.move(
                items,
                CENTRAL,
                home,
                Transfer.Reason.RETURN_HOME,
                day,
                note="馆际归还图书送回",
                arrive_after=day + 3 if last else 0,
            )

    def is_rotation_day(self, day: int) -> bool:
        d = date.fromordinal(day)
        return d.month in (1, 4, 7, 10) and 6 <= d.day <= 12 and d.weekday() == 0

    def rotate(self, day: int) -> None:
        """Each service point passes on a fifth of its stock that has not been read for months."""
        p, rng = self.plan, self.rng
        idle_since = self.at(day - 90, 0)
        for n, source in enumerate(self.points):
            destination = self.points[(n + 1) % len(self.points)]
            idle = [
                i
                for i in self.movable(self.on_shelf(source), source)
                if p.home[i] == source
                and p.display[i] is None
                and (p.last_loan_at[i] is None or p.last_loan_at[i] < idle_since)
            ]
            stock = sum(1 for code in p.site if code == source)
            items = sorted(rng.sample(idle, min(len(idle), stock // 5)))
            if items:
                self.move(
                    items, source, destination, Transfer.Reason.ROTATION, day, note="季度轮换"
                )

    def showcase_day(self, start: int, end: int) -> int | None:
        if not self.county.showcase_site:
            return None
        for year in (self.anchor.year, self.anchor.year - 1):
            world_book_day = date(year, 4, 23).toordinal()  # 世界读书日
            if start <= world_book_day - 7 < end - 10:
                return world_book_day - 7
        return start + 30

    def showcase(self, day: int) -> None:
        """精品展柜 at a branch: the dearest literature, history and art of the central library."""
        p = self.plan
        site = self.county.showcase_site
        opens = date.fromordinal(day + 7)
        p.displays.append(
            (site, "精品展柜", Display.Kind.SHOWCASE, opens, self.anchor + timedelta(days=60))
        )
        candidates = [
            i
            for i in self.movable(self.on_shelf(CENTRAL), CENTRAL)
            if p.display[i] is None and self.top[i] in "IKJ"
        ]
        candidates.sort(key=lambda i: (-(p.titles[p.title[i]].price or 0), i))
        items = sorted(candidates[: max(1, round(60 * self.scale))])
        if not items:
            return
        transfer = self.move(
            items, CENTRAL, site, Transfer.Reason.DISPLAY, day, note="世界读书日精品展"
        )
        self.display_of[transfer] = len(p.displays) - 1

    def draft_transfers(self, day: int) -> None:
        """Drafts a librarian is preparing at the anchor: the volumes are still on the shelf."""
        p, rng = self.plan, self.rng
        school = next(c for c in self.points if self.sites[c].profile == "school")
        wanted = [
            (CENTRAL, school, "IGKH", 40, "新学期图书调配"),
            (CENTRAL, self.points[-1], CLASSES, 15, "补充基层服务点图书"),
        ]
        for source, destination, tops, count, note in wanted:
            # Asked again for each draft: the volumes the one before took are on a transfer now.
            candidates = [
                i
                for i in self.movable(self.on_shelf(source), source)
                if self.top[i] in tops and p.display[i] is None
            ]
            items = sorted(
                rng.sample(candidates, min(len(candidates), max(2, round(count * self.scale))))
            )
            if items:
                reason = Transfer.Reason.ROTATION
                self.draft(items, source, destination, reason, self.at(day, 17 * 60), note)

    def stock_check(self, day: int) -> None:
        """A stock check (盘点) finds a few volumes gone from their shelf."""
        rng = self.rng
        for code in self.sites:
            for item in self.on_shelf(code):
                if rng.random() < 0.0015:
                    self.unshelve(item)
                    self.transition(
                        item,
                        Kind.STATUS_CHANGED,
                        self.at(day, 17 * 60),
                        Status.MISSING,
                        note="年度盘点未找到",
                    )

    # --- loans ------------------------------------------------------------------------------

    def lend(self, day: int) -> None:
        rng = self.rng
        today = date.fromordinal(day)
        for code, spec in self.sites.items():
            expected = self.rate[code] * day_factor(PROFILES[spec.profile], today)
            expected *= rng.uniform(0.8, 1.2)
            count = int(expected) + (rng.random() < expected % 1)
            for _n in range(count):
                chosen = self.choose_patron(code, day)
                if chosen is None:
                    continue
                item = self.choose_item(code, PROFILES[spec.profile])
                if item is None:
                    break
                self.check_out(item, *chosen, code, day)

    def choose_patron(self, site: str, day: int) -> tuple[int, LoanRule] | None:
        rng, p = self.rng, self.plan
        for _attempt in range(4):
            # Most readers use the site where they got their card; some borrow anywhere.
            members, weights = self.pool[site if rng.random() < 0.85 else ""]
            patron = members[_pick(rng, weights)]
            if self.registered[patron] > day:
                continue
            rule = self.desk.loan_rule(p.patrons[patron].category, site)
            if rule is None or self.may_not_borrow(patron, rule, day):
                continue
            return patron, rule
        return None

    def may_not_borrow(self, patron: int, rule: LoanRule, day: int) -> bool:
        """The desk's refusals of a reader (loan_checkout): at the rule's limit, or with a loan
        overdue when the rule stops lending then. Loans returned today still count (see
        `released`), so the answer holds at any hour of the day."""
        held = self.holding[patron]
        if len(held) >= rule.max_items:
            return True
        return rule.blocks_when_overdue and any(self.due_day[loan] < day for loan in held)

    def choose_item(self, site: str, profile) -> int | None:
        # The site's shelves and its readers' taste per class, looked up once: this runs for
        # every loan of the year.
        if site not in self.tastes:
            self.tastes[site] = [(profile.taste(t), self.shelves[site, t]) for t in CLASSES]
        shelves, weights = [], []
        for taste, shelf in self.tastes[site]:
            if shelf.items:
                shelves.append(shelf)
                weights.append(taste * len(shelf.items))
        if not shelves:
            return None
        return self.rng.choices(shelves, weights)[0].pick(self.rng)

    def check_out(self, item: int, patron: int, rule: LoanRule, site: str, day: int) -> None:
        rng, p = self.rng, self.plan
        if item in self.on_transfer or self.desk.lend_refusal(p.status[item], p.site[item], site):
            raise BrokenRule(f"{self.county.library}: {p.barcode[item]} lent at {site}")
        length = rule.loan_days
        out = self.opening_hours(day)
        # How this loan ends: on time, renewed, late, very late or not at all.
        u, renewals = rng.random(), []
        due = day + length
        if u < 0.66:
            back = day + rng.randint(2, length)
        elif u < 0.84:
            renewals.append(due - rng.randint(1, 6))
            if rule.max_renewals > 1 and rng.random() < 0.3:
                renewals.append(renewals[-1] + length - rng.randint(1, 6))
            back = renewals[-1] + rng.randint(2, length)
        elif u < 0.955:
            back = due + rng.randint(1, 20)
        elif u < 0.996:
            back = due + rng.randint(21, 75)
        else:
            back = NEVER
        end = self.anchor.toordinal()
        renewals = [r for r in renewals if r < end]
        due_day = (renewals[-1] if renewals else day) + length
        # Readers of branches and service points sometimes return at the central library in town.
        return_site = site if site == CENTRAL or rng.random() < 0.85 else CENTRAL
        index = len(p.loans)
        p.loans.append(
            [
                item,
                patron,
                site,
                p.display[item],
                out,
                self.due_at(due_day),
                None,
                None,
                len(renewals),
            ]
        )
        self.unshelve(item)
        self.transition(item, Kind.CHECKED_OUT, out, Status.ON_LOAN)
        p.last_loan_at[item] = out
        self.holding[patron].append(index)
        self.due_day.append(day + length)
        for r in renewals:
            self.renewals[r].append(index)
        if back < end:
            self.returns[back].append(index)
        self.loan_plan[index] = (back, return_site, rule)

    def due_at(self, day: int) -> datetime:
        """The desk's due time for a loan due on `day` (the demo has no closed days to skip)."""
        return end_of_day(date.fromordinal(day))

    def renew(self, loan: int, day: int) -> None:
        p = self.plan
        item = p.loans[loan][0]
        # As loan_renew: the new due date counts the rule's days from today.
        self.due_day[loan] = day + self.loan_plan[loan][2].loan_days
        note = f"续借至 {date.fromordinal(self.due_day[loan]).isoformat()}"
        self.transition(item, Kind.RENEWED, self.opening_hours(day), Status.ON_LOAN, note=note)

    def give_back(self, loan: int, day: int) -> None:
        rng, p = self.rng, self.plan
        item, patron, site, display = p.loans[loan][:4]
        _back, return_site, _rule = self.loan_plan[loan]
        at = self.opening_hours(day)
        p.loans[loan][6] = at
        p.loans[loan][7] = return_site
        self.released[day + 1].append(loan)
        if return_site != site:
            p.display[item] = None  # a displayed volume returned elsewhere leaves the display
        if rng.random() < 0.001:
            self.transition(
                item, Kind.RETURNED, at, Status.DAMAGED, return_site, note="归还时发现损坏"
            )
            self.damaged_by.append((patron, day))
            return
        self.transition(item, Kind.RETURNED, at, Status.AVAILABLE, return_site)
        self.ready[day + 1].append(item)
        if return_site == CENTRAL and p.home[item] != CENTRAL:
            self.away[item] = None

    def suspend_readers(self, end: int) -> None:
        p = self.plan
        # Only books gone for half a year get a card suspended; shorter delays get a reminder.
        overdue_since = self.due_at(end - 180)
        for loan in p.loans:
            if loan[6] is None and loan[5] < overdue_since:
                p.patrons[loan[1]].suspended_reason = "逾期半年以上未还"
        for patron, day in self.damaged_by:
            if day >= end - 60 and not p.patrons[patron].suspended_reason:
                p.patrons[patron].suspended_reason = "损坏图书，待赔偿"


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: Random, cumulative: list[float]) -> int:
    return min(bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


def simulate(county: County, anchor: date, scale: float, tz: tzinfo) -> Plan:
    return Simulation(county, anchor, scale, tz).run()
