"""Write the demo: places and logins first, then each county's simulated year in bulk.

A county whose consignment already exists is left alone, so a second run creates nothing; the
places and logins are only ever added where missing. Volumes, loans and their history go in with
bulk_create under primary keys chosen here, inside one transaction.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from circulation.models import Loan, LoanRule, Patron
from circulation.services.patrons import patron_set_pin
from collections_app.models import (
    Consignment,
    Display,
    Item,
    ItemEvent,
    Library,
    Site,
    Title,
    Transfer,
    TransferLine,
)
from collections_app.services.holdings import holdings_add
from collections_app.title_keys import title_search_keys

from .holds import seed_holds
from .people import ensure_users, loan_rules
from .places import NLC, SUIXIAN, ZENGDU, ensure_libraries, ensure_sites
from .simulation import CENTRAL, County, Plan, simulate

COUNTIES = (
    County(
        library=SUIXIAN,
        reference="NLC-2021-SX",
        agreement=date(2021, 3, 1),
        received=date(2021, 4, 12),
        volumes=30_000,
        series=1,
        card_prefix="SX",
        patrons=3_000,
        loans_per_year=50_000,
        with_marc=True,
        showcase_site="lishan",
    ),
    County(
        library=ZENGDU,
        reference="NLC-2021-ZD",
        agreement=date(2021, 5, 1),
        received=date(2021, 5, 17),
        volumes=3_000,
        series=2,
        card_prefix="ZD",
        patrons=800,
        loans_per_year=7_000,
        with_marc=False,
    ),
)
# The anchor must leave the volumes a season of service after their allocation.
EARLIEST_ANCHOR = date(2021, 9, 1)
BATCH = 5_000
BULK_MODELS = (Title, Item, Patron, Loan, Transfer, TransferLine, ItemEvent)


@dataclass
class Summary:
    created: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)  # counties that were already there
    open_loans: int = 0
    overdue: int = 0
    in_transit: int = 0


DEMO_READER_PIN = "2468"


def seed_demo(*, today: date, scale: float = 1.0) -> Summary:
    if today < EARLIEST_ANCHOR:
        raise ValueError(f"The demo's year must start after the volumes came: {today}")
    summary = Summary()
    with transaction.atomic():
        libraries, summary.created["libraries"] = ensure_libraries()
        sites: dict[str, dict[str, Site]] = {}
        for county in COUNTIES:
            sites[county.library], created = ensure_sites(libraries[county.library])
            summary.created["sites"] += created
        users, summary.created["users"] = ensure_users(libraries, sites)
        for county in COUNTIES:
            library = libraries[county.library]
            if Consignment.objects.filter(
                lender=libraries[NLC], reference=county.reference
            ).exists():
                summary.skipped.append(library.name)
                continue
            plan = simulate(county, today, scale, timezone.get_default_timezone())
            librarian = users[county.library.lower()]
            volunteers = {
                code: user for user in users.values() for code in _site_codes(user, library)
            }
            Writer(
                plan, library, libraries[NLC], sites[county.library], librarian, volunteers, summary
            ).write()
            # Rows went in under explicit keys; the services below take theirs from sequences.
            _reset_sequences()
            _demo_reader_pin(library, librarian)
            # After the year is written: the hold services judge against the demo as it stands.
            holds = seed_holds(
                library=library,
                librarian=librarian,
                anchor=today,
                scale=scale,
                loans_per_year=county.loans_per_year,
            )
            summary.created["holds"] += sum(holds.values())
    return summary


def _demo_reader_pin(library: Library, librarian) -> None:
    """The first reader of each county (SX000001, ZD000001) signs in to the catalogue with a
    PIN the README gives, set as the desk sets one."""
    reader = Patron.objects.filter(library=library).order_by("card_number").first()
    if reader is not None:
        patron_set_pin(user=librarian, patron=reader, pin=DEMO_READER_PIN)


def _site_codes(user, library: Library) -> list[str]:
    if user.library_id != library.pk or not user.is_site_staff:
        return []
    return list(user.sites.values_list("code", flat=True))


def _reset_sequences() -> None:
    # Rows went in under explicit keys; PostgreSQL's sequences must learn about them.
    statements = connection.ops.sequence_reset_sql(no_style(), BULK_MODELS)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _batched(rows: Iterable, size: int):
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _bulk(model: type[models.Model], rows: Sequence, build: Callable[[int, object], object]) -> int:
    """Create one row per element of `rows`, `build(position, row)` making each instance."""
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        model.objects.bulk_create([build(start + n, row) for n, row in enumerate(chunk)])
    return len(rows)


def _insert(model: type[models.Model], fields: str, rows: Iterable[tuple]) -> int:
    """INSERT plain tuples through the cursor, bypassing model instances.

    Only for loans and item history: at a quarter of a million rows, bulk_create's per-field
    preparation alone takes most of the one-minute budget on SQLite. The caller adapts the
    values (datetimes through the backend's adapter) and gives them in `fields` order.
    """
    quote = connection.ops.quote_name
    meta = model._meta
    given = fields.split()
    # Columns added to the model later still get their model default, as bulk_create would.
    rest = [f for f in meta.concrete_fields if f.name not in given and f.has_default()]
    extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = [quote(meta.get_field(name).column) for name in given]
    columns += [quote(f.column) for f in rest]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    count = 0
    with connection.cursor() as cursor:
        for chunk in _batched(rows, BATCH):
            cursor.executemany(sql, [row + extra for row in chunk] if extra else chunk)
            count += len(chunk)
    return count


class Writer:
    def __init__(self, plan: Plan, library, lender, sites, librarian, volunteers, summary):
        self.plan, self.library, self.lender = plan, library, lender
        self.sites: dict[str, Site] = sites
        self.librarian, self.volunteers = librarian, volunteers
        self.summary = summary
        self.first = {model: _next_id(model) for model in BULK_MODELS}

    def site_id(self, code: str) -> int | None:
        return self.sites[code].pk if code else None

    def user_id(self, code: str) -> int:
        return (self.volunteers.get(code) or self.librarian).pk

    def write(self) -> None:
        p, lib = self.plan, self.library
        county = p.county
        consignment = Consignment.objects.create(
            library=lib,
            lender=self.lender,
            reference=county.reference,
            agreement_date=county.agreement,
            # Renewed every year on 1 March since the first three-year term.
            term_ends_on=date(p.anchor.year + (p.anchor >= date(p.anchor.year, 3, 1)), 3, 1),
            expected_count=len(p.barcode),
            status=Consignment.Status.ACTIVE,
            note="国家图书馆文献共享借阅项目首批图书，首期三年，期满逐年续签。",
        )
        rules = LoanRule.objects.bulk_create(loan_rules(lib))
        displays = [
            Display.objects.create(
                library=lib,
                site=self.sites[site],
                name=name,
                kind=kind,
                starts_on=starts,
                ends_on=ends,
            )
            for site, name, kind, starts, ends in p.displays
        ]
        ids = self.first
        created = self.summary.created
        created["consignments"] += 1
        created["loan rules"] += len(rules)
        created["displays"] += len(displays)
        created["titles"] += _bulk(
            Title,
            p.titles,
            lambda n, t: Title(
                id=ids[Title] + n,
                library=lib,
                isbn=t.isbn,
                title=t.title,
                responsibility=t.responsibility,
                publisher=t.publisher,
                year=t.year,
                clc=t.clc,
                clc_top=t.clc_top,
                price=t.price,
                marc=t.marc,
                created_at=p.changed_at[0],
                **title_search_keys(t.title),
            ),
        )
        display_id = [d.pk for d in displays]
        created["items"] += _bulk(
            Item,
            range(len(p.barcode)),
            lambda n, i: Item(
                id=ids[Item] + i,
                library=lib,
                barcode=p.barcode[i],
                title_id=ids[Title] + p.title[i],
                consignment=consignment,
                owner=self.lender,
                call_number=p.call_number[i],
                home_site_id=self.site_id(p.home[i]),
                current_site_id=self.site_id(p.site[i]),
                display_id=None if p.display[i] is None else display_id[p.display[i]],
                status=p.status[i],
                status_changed_at=p.changed_at[i],
                last_loan_at=p.last_loan_at[i],
            ),
        )
        # The volumes go in as the simulation left them: their holdings summary with them.
        holdings_add(item_ids=range(ids[Item], ids[Item] + len(p.barcode)))
        tz = timezone.get_default_timezone()
        created["patrons"] += _bulk(
            Patron,
            p.patrons,
            lambda n, r: Patron(
                id=ids[Patron] + n,
                library=lib,
                card_number=r.card_number,
                name=r.name,
                phone=r.phone,
                category=r.category,
                home_site_id=self.site_id(r.home),
                birth_year=r.birth_year,
                registered_at=datetime.combine(r.registered_on, time(9), tz),
                is_suspended=bool(r.suspended_reason),
                suspended_reason=r.suspended_reason,
            ),
        )
        created["transfers"] += _bulk(
            Transfer,
            p.transfers,
            lambda n, t: Transfer(
                id=ids[Transfer] + n,
                library=lib,
                source_id=self.site_id(t[0]),
                destination_id=self.site_id(t[1]),
                reason=t[2],
                status=t[3],
                created_by_id=self.librarian.pk,
                created_at=t[4],
                dispatched_at=t[5],
                received_at=t[6],
                note=t[7],
            ),
        )
        created["transfer lines"] += _bulk(
            TransferLine,
            p.lines,
            lambda n, line: TransferLine(
                id=ids[TransferLine] + n,
                library=lib,
                transfer_id=ids[Transfer] + line[0],
                item_id=ids[Item] + line[1],
                state=line[2],
                is_open=line[3],
            ),
        )
        when = connection.ops.adapt_datetimefield_value
        created["loans"] += _insert(
            Loan,
            (
                "id library item patron site display checked_out_at due_at returned_at return_site "
                "renewals"
            ),
            (
                (
                    ids[Loan] + n,
                    lib.pk,
                    ids[Item] + x[0],
                    ids[Patron] + x[1],
                    self.site_id(x[2]),
                    None if x[3] is None else display_id[x[3]],
                    when(x[4]),
                    when(x[5]),
                    when(x[6]),
                    self.site_id(x[7]),
                    x[8],
                )
                for n, x in enumerate(p.loans)
            ),
        )
        created["item events"] += _insert(
            ItemEvent,
            "id library item kind at from_status to_status from_site to_site transfer user note",
            (
                (
                    ids[ItemEvent] + n,
                    lib.pk,
                    ids[Item] + e[0],
                    e[1],
                    when(e[2]),
                    e[3],
                    e[4],
                    self.site_id(e[5]),
                    self.site_id(e[6]),
                    None if e[7] is None else ids[Transfer] + e[7],
                    self.user_id(e[6] or e[5] or CENTRAL),
                    e[8],
                )
                for n, e in enumerate(p.events)
            ),
        )
        anchor = datetime.combine(p.anchor, time(), tz)
        open_loans = [x for x in p.loans if x[6] is None]
        self.summary.open_loans += len(open_loans)
        self.summary.overdue += sum(1 for x in open_loans if x[5] < anchor)
        self.summary.in_transit += sum(1 for s in p.status if s == Item.Status.IN_TRANSIT)
