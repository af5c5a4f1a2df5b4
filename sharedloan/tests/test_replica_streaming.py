"""The report pages on a real PostgreSQL streaming replica: run by .ci/replica.sh with
DATABASE_REPLICA_URL and `-p sharedloan.tests.replica_plugin`; skipped everywhere else."""

import time

import pytest
from django.conf import settings
from django.db import DatabaseError, connections
from django.test.utils import CaptureQueriesContext

from circulation.models import Loan
from conftest import make_item
from reports.tests.helpers import lend, make_patron
from sharedloan.db_routers import PIN_COOKIE

pytestmark = [
    pytest.mark.skipif(
        "replica" not in settings.DATABASES, reason="needs DATABASE_REPLICA_URL (.ci/replica.sh)"
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture
def may_loans(suixian, sui_central, sui_consignment):
    reader = make_patron(suixian, sui_central, "SX1")
    for n in range(3):
        item = make_item(sui_consignment, sui_central, f"NL3000000{n}", clc="I247")
        lend(item, reader, sui_central, f"2026-05-0{n + 1} 10:00")


def _loan_queries(captured):
    return [q["sql"] for q in captured.captured_queries if "circulation_loan" in q["sql"]]


def test_the_standby_is_in_recovery_and_the_primary_is_not():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is False


def test_the_report_page_counts_the_loans_on_the_replica(may_loans, client, sui_librarian):
    client.force_login(sui_librarian)
    client.cookies.pop(PIN_COOKIE, None)
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        response = client.get("/reports/?period=2026-05&rows=library")
    assert response.status_code == 200
    assert response.context["tables"][1].total[1] == 3
    assert _loan_queries(on_replica), "the loans were not read from the replica"
    assert not [q for q in _loan_queries(on_primary) if q.lstrip().startswith("SELECT")]


def test_a_browser_that_just_wrote_reads_the_primary(may_loans, client, sui_librarian):
    client.force_login(sui_librarian)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/reports/"})
    assert response.status_code == 302
    assert PIN_COOKIE in response.cookies
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        response = client.get("/reports/?period=2026-05")
    assert response.status_code == 200
    assert on_replica.captured_queries == []


def test_the_replica_refuses_a_write():
    with (
        pytest.raises(DatabaseError, match="read-only"),
        connections["replica"].cursor() as cursor,
    ):
        cursor.execute("CREATE TABLE replica_write_probe (id int)")


def test_a_loan_written_on_the_primary_appears_on_the_replica(may_loans, capsys):
    loan = Loan.objects.order_by("pk").first()
    Loan.objects.filter(pk=loan.pk).update(renewals=loan.renewals + 1)
    started = time.monotonic()
    # Read the standby directly, without the plugin's wait: the stream alone brings the row.
    # The loan itself was written a moment ago, so the standby may not hold it yet either.
    connections["replica"].ensure_connection()
    raw = connections["replica"].connection.cursor()
    while True:
        raw.execute("SELECT renewals FROM circulation_loan WHERE id = %s", [loan.pk])
        row = raw.fetchone()
        if row is not None and row[0] == loan.renewals + 1:
            break
        assert time.monotonic() - started < 10, "the write did not reach the replica in 10 s"
        time.sleep(0.001)
    with capsys.disabled():
        print(
            f"\nreplica: a loan updated on the primary was read on the replica after "
            f"{(time.monotonic() - started) * 1000:.1f} ms"
        )
