"""Which database a read goes to (sharedloan/db_routers.py), decided without a replica: the
choices are recorded from inside the request. tests/test_replica_streaming.py runs the same
pages against a real streaming replica (in CI, .ci/replica.sh)."""

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, router
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from accounts.models import User
from circulation.models import Loan
from jobs.models import Job
from reports.models import LoanMonth
from sharedloan import db_routers
from sharedloan.db_routers import PIN_COOKIE, REPLICA, ReplicaReadsMiddleware, ReplicaRouter


def decisions():
    """Where the ORM would read right now."""
    return {
        "loans": router.db_for_read(Loan),
        "summaries": router.db_for_read(LoanMonth),
        "users": router.db_for_read(User),
        "jobs": router.db_for_read(Job),
    }


def through_middleware(request, view=None):
    seen = {}

    def get_response(request):
        seen.update(decisions())
        if view is not None:
            return view(request)
        return HttpResponse("ok")

    response = ReplicaReadsMiddleware(get_response)(request)
    return seen, response


@pytest.fixture
def with_replica(monkeypatch):
    """A replica alias as DATABASE_REPLICA_URL would declare it, reachable."""
    monkeypatch.setattr(db_routers, "replica_configured", lambda: True)
    monkeypatch.setattr(db_routers, "_replica_reachable", lambda: True)


REPORT_URLS = [
    "/reports/?period=2026-05",
    "/reports/readers/",
    "/reports/holdings/",
    "/reports/preferences/",
    "/reports/transit/",
    "/reports/compare/",
    "/reports/holdings/idle/?format=csv",
    "/reports/period/rollup.xlsx?period=2026-05",
]


def test_without_a_replica_every_read_goes_to_the_primary(monkeypatch):
    monkeypatch.setattr(db_routers, "replica_configured", lambda: False)
    seen, response = through_middleware(RequestFactory().get("/reports/?period=2026-05"))
    assert set(seen.values()) == {DEFAULT_DB_ALIAS}
    assert PIN_COOKIE not in response.cookies
    assert ReplicaRouter().db_for_read(Loan) == DEFAULT_DB_ALIAS


@pytest.mark.parametrize("url", REPORT_URLS)
def test_a_report_page_or_export_reads_loans_and_summaries_from_the_replica(with_replica, url):
    seen, response = through_middleware(RequestFactory().get(url))
    assert seen == {
        "loans": REPLICA,
        "summaries": REPLICA,
        # A sign-in or a job just started must count at once: the primary.
        "users": DEFAULT_DB_ALIAS,
        "jobs": DEFAULT_DB_ALIAS,
    }


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/circulation/desk/",
        "/collections/consignments/",
        "/reports/period/",
        "/reports/period/1/",
        "/reports/period/1/download.xlsx",
        "/api/v1/items/",
        "/no/such/page/",
    ],
)
def test_every_other_page_reads_the_primary(with_replica, url):
    seen, _ = through_middleware(RequestFactory().get(url))
    assert seen["loans"] == DEFAULT_DB_ALIAS


def test_a_post_reads_and_writes_the_primary_and_pins_the_browser_to_it(with_replica, settings):
    settings.REPLICA_PIN_SECONDS = 7
    seen, response = through_middleware(RequestFactory().post("/reports/?period=2026-05"))
    assert seen["loans"] == DEFAULT_DB_ALIAS
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 7
    assert cookie["httponly"]


def test_a_browser_pinned_after_its_write_reads_the_primary(with_replica):
    request = RequestFactory().get("/reports/?period=2026-05")
    request.COOKIES[PIN_COOKIE] = "1"
    seen, _ = through_middleware(request)
    assert seen["loans"] == DEFAULT_DB_ALIAS


def test_a_get_that_writes_reads_the_primary_from_then_on_and_pins_the_browser(with_replica):
    after_write = {}

    def view(request):
        # What Job.objects.create() asks first: never the replica.
        after_write["write"] = router.db_for_write(Job)
        after_write.update(decisions())
        return HttpResponse("ok")

    seen, response = through_middleware(RequestFactory().get("/reports/holdings/"), view)
    assert seen["loans"] == REPLICA
    assert after_write["write"] == DEFAULT_DB_ALIAS
    assert after_write["loans"] == DEFAULT_DB_ALIAS
    assert PIN_COOKIE in response.cookies


def test_a_read_only_get_sets_no_pin(with_replica):
    _, response = through_middleware(RequestFactory().get("/reports/holdings/"))
    assert PIN_COOKIE not in response.cookies


def test_a_streamed_export_reads_the_replica_while_it_streams(with_replica):
    """A CSV export runs its query when the server iterates the response, after the
    middleware has returned."""

    def view(request):
        def rows():
            yield router.db_for_read(Loan).encode()
            yield router.db_for_read(User).encode()

        return StreamingHttpResponse(rows())

    _, response = through_middleware(RequestFactory().get("/reports/holdings/idle/"), view)
    assert router.db_for_read(Loan) == DEFAULT_DB_ALIAS  # outside the response: the primary
    assert list(response.streaming_content) == [REPLICA.encode(), DEFAULT_DB_ALIAS.encode()]
    assert router.db_for_read(Loan) == DEFAULT_DB_ALIAS


def test_an_unreachable_replica_leaves_the_reports_on_the_primary(monkeypatch, caplog):
    class Down:
        closed = False

        def ensure_connection(self):
            raise OperationalError("connection refused")

        def close(self):
            self.closed = True

    down = Down()
    monkeypatch.setattr(db_routers, "replica_configured", lambda: True)
    monkeypatch.setattr(db_routers, "connections", {REPLICA: down})
    seen, _ = through_middleware(RequestFactory().get("/reports/?period=2026-05"))
    assert seen["loans"] == DEFAULT_DB_ALIAS
    assert down.closed
    assert "read replica unreachable" in caplog.text


def test_the_replica_is_never_migrated_nor_written():
    routing = ReplicaRouter()
    assert routing.allow_migrate(REPLICA, "circulation") is False
    assert routing.allow_migrate(DEFAULT_DB_ALIAS, "circulation") is True
    assert routing.db_for_write(Loan) == DEFAULT_DB_ALIAS


def test_rows_read_from_the_replica_may_be_related_to_rows_of_the_primary():
    primary, replica = Loan(), User()
    primary._state.db, replica._state.db = DEFAULT_DB_ALIAS, REPLICA
    assert ReplicaRouter().allow_relation(primary, replica) is True


@pytest.mark.django_db
def test_a_report_page_answers_as_before_without_a_replica(client, sui_librarian):
    client.force_login(sui_librarian)
    response = client.get("/reports/holdings/")
    assert response.status_code == 200
    assert PIN_COOKIE not in response.cookies
