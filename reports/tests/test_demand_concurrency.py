"""Two readers searching for the same absent title at the same moment both count: the counter
is one INSERT … ON CONFLICT DO UPDATE, and PostgreSQL makes the second wait for the first's row
and then add to it. On PostgreSQL with real connections; SQLite serialises writers, so nothing
runs at once there and these tests skip."""

import threading
import time

import pytest
from django.db import connection, transaction

from reports.demand import demand_record
from reports.models import DemandSearch

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 10
READERS = 4


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


def race(count, threads):
    barrier = threading.Barrier(threads)
    errors = []

    def run(index):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                count()
                # The first holds its new row a moment, uncommitted: the others must wait for
                # it and add to it, not insert a second row or overwrite its count.
                time.sleep(0.02 if index == 0 else 0)
        except Exception as error:  # noqa: BLE001 — reported below, with its type
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


def test_concurrent_searches_for_the_same_thing_all_count(suixian, xiaolin_site):
    for round_ in range(ROUNDS):
        query = f"三体{round_}"

        def count(query=query):
            demand_record(library=suixian, site=xiaolin_site, query=query, outcome="none")

        race(count, READERS)
        assert list(
            DemandSearch.objects.filter(query=query).values_list("searches", flat=True)
        ) == [READERS]


def test_concurrent_searches_without_a_site_share_one_row(suixian):
    def count():
        demand_record(library=suixian, site=None, query="活着", outcome="none", times=2)

    race(count, READERS)
    race(count, READERS)
    assert list(DemandSearch.objects.values_list("site", "searches")) == [(None, 4 * READERS)]
