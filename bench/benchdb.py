"""Shared set-up of the benchmarks: a fresh PostgreSQL database and a synthetic county.

Each benchmark runs standalone (`python bench/NAME.py [--quick]`) against DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/sharedloan_bench, which is dropped and re-created first. The
scripts put the project root in place of bench/ on the path (a script there would shadow an app
or a library of its name) and import this module as `bench.benchdb`. `--quick` runs each on
small data, as CI does (`make bench-quick`); the figures come from the full run (`make bench`).
"""

import os
import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlparse


def _create(conn, name):
    """A benchmark database with the planner setting docs/deployment.md asks of a server on
    SSD (the raw baselines run in it too, so the comparison stays fair)."""
    conn.execute(f'CREATE DATABASE "{name}"')
    conn.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')


def ensure_database():
    """Create the benchmark database when it does not exist yet (a `--reuse` run on a new
    machine); an existing one is kept as it is."""
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            _create(conn, name)


def fresh_database():
    """Drop and create the benchmark database, then set Django up and migrate it."""
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to drop {name!r}: benchmark databases end in _bench")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _create(conn, name)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


@dataclass
class County:
    library: object
    central: object
    sites: list
    librarian: object
    consignment: object


def make_county(*, volumes: int, sites: int, code: str = "BENCH") -> County:
    from datetime import date

    from accounts.models import User
    from collections_app.models import Consignment, Item, Library, Site, Title

    nlc, _ = Library.objects.get_or_create(
        code="NLC", defaults={"name": "国家图书馆", "kind": Library.Kind.NATIONAL}
    )
    library = Library.objects.create(code=code, name="基准县图书馆", kind=Library.Kind.COUNTY)
    central = Site.objects.create(library=library, code="central", name="总馆", kind="central")
    points = [
        Site.objects.create(
            library=library,
            code=f"sp{n:02}",
            name=f"服务点{n:02}",
            kind="service_point",
            parent=central,
            capacity=volumes // max(sites, 1) * 2,
        )
        for n in range(sites)
    ]
    librarian = User.objects.create_user(
        username=f"{code.lower()}-librarian", password="x", library=library, role="librarian"
    )
    consignment = Consignment.objects.create(
        library=library, lender=nlc, reference=f"{code}-2021", agreement_date=date(2021, 3, 1)
    )
    classes = "ABCDEFGHIJKNOPQRSTUVXZ"
    titles = Title.objects.bulk_create(
        Title(
            library=library,
            title=f"基准书目 {n}",
            clc=f"{classes[n % len(classes)]}{n % 97}",
            clc_top=classes[n % len(classes)],
            price=Decimal("30.00"),
        )
        for n in range(max(volumes // 3, 1))
    )
    Item.objects.bulk_create(
        (
            Item(
                library=library,
                barcode=f"{code}{n:08}",
                title=titles[n % len(titles)],
                consignment=consignment,
                owner=nlc,
                call_number=f"{titles[n % len(titles)].clc}/{n % 50}",
                home_site=central,
                current_site=central,
            )
            for n in range(volumes)
        ),
        batch_size=5000,
    )
    from collections_app.services.holdings import holdings_rebuild

    holdings_rebuild(library_ids=[library.pk])  # the volumes went in around the services
    return County(library, central, points, librarian, consignment)


def best_of(fn, rounds: int) -> float:
    """The fastest of `rounds` runs of `fn`, in seconds: the figure least moved by other work."""
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best
