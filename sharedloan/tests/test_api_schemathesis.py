"""Schemathesis against the schema at /api/schema/: generated requests to every operation, as a
county librarian with a token over a small county, must find no 500 and no answer that breaks
the schema (status code, content type, headers, body). Bounded: a few examples per operation,
so that the run stays well under two minutes; SCHEMATHESIS_EXAMPLES=100 runs more of them.

A stateful run follows the links schemathesis finds between operations (an id or a `Location`
one answer gives, used by the next request): a consignment announced, then started or signed
off; a box registered, then packed or sent. SCHEMATHESIS_STATEFUL_RUNS sets how many."""

import os

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.stateful import run_state_machine_as_test
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import api_token_create
from circulation.models import LoanRule, Patron
from circulation.services.loans import loan_checkout
from collections_app.models import Site
from conftest import make_item, make_site

EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
STATEFUL_RUNS = int(os.environ.get("SCHEMATHESIS_STATEFUL_RUNS", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def small_county(sui_librarian, sui_consignment, sui_central, sui_branch, xiaolin_site, zengdu):
    """Sui County with a few volumes, readers and loans; 曾都区 beside it, out of scope."""
    make_site(zengdu, "central", "曾都区图书馆总馆")
    make_site(
        sui_central.library,
        "closed",
        "已停用站点",
        Site.Kind.SERVICE_POINT,
        sui_central,
        is_active=False,
    )
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=sui_central.library, category=category, loan_days=30, max_items=5
        )
    readers = [
        Patron.objects.create(
            library=sui_central.library,
            card_number=f"SX{n:06d}",
            name=f"读者{n}",
            category=Patron.Category.ADULT,
            home_site=sui_central,
            birth_year=1980 + n,
        )
        for n in range(1, 4)
    ]
    items = [
        make_item(sui_consignment, site, f"NL8{n:07d}", title=f"书{n}")
        for n, site in enumerate([sui_central] * 4 + [sui_branch] * 2 + [xiaolin_site] * 2)
    ]
    loan_checkout(user=sui_librarian, site=sui_central, patron=readers[0], barcode=items[0].barcode)
    return sui_librarian


@pytest.fixture
def web_api(small_county, monkeypatch):
    # The throttles would answer 429 (documented, but no test of anything) after 600 requests.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )
    from django.core import signals
    from django.db import close_old_connections

    from sharedloan.wsgi import application

    # The WSGI application closes "old" database connections when a request starts and ends;
    # inside the test's transaction that would close the test's own connection (on PostgreSQL
    # the next query finds it closed). Django's test client unhooks the same two handlers.
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    loaded = schemathesis.openapi.from_wsgi("/api/schema/", application)
    loaded.config.update(suppress_health_check=list(HealthCheck))
    yield loaded
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def county_token(small_county):
    return api_token_create(user=small_county, name="schemathesis")[1]


def test_the_api_keeps_its_schema(web_api, county_token):
    """Each operation in turn, through schemathesis' Python API (its pytest plugin does not
    run under pytest 9); every failure of every operation is listed, not only the first."""
    failures = []
    operations = [result.ok() for result in web_api.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(
                headers={"Authorization": f"Token {county_token}"}, checks=CHECKS
            )

        try:
            run()
        except Exception as failure:  # noqa: BLE001 - each operation's failure is reported
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    assert not failures, "\n\n".join(failures)


def test_an_accept_header_the_api_cannot_answer_is_a_documented_answer(web_api, county_token):
    """Clients send Accept headers of their own; the answer to one that no operation can serve
    must be in the schema too, for every operation."""
    failures = []
    for operation in [result.ok() for result in web_api.get_all_operations()]:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=1,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            headers = {"Authorization": f"Token {county_token}", "Accept": "application/xml"}
            response = case.call(headers=headers)
            assert response.status_code == 406, response.status_code
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as failure:  # noqa: BLE001 - each operation's failure is reported
            failures.append(f"{operation.label}: {str(failure)[:500]}")
    assert not failures, "\n\n".join(failures)


def test_chains_of_requests_keep_the_schema(web_api, county_token):
    """Each run of the state machine starts from the same county: its writes are undone after
    it (a savepoint), so that hypothesis sees the same API on every run."""

    class Chains(web_api.as_state_machine()):
        def setup(self):
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {county_token}"}}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(
        Chains,
        settings=settings(
            max_examples=STATEFUL_RUNS,
            stateful_step_count=6,
            # Shrinking replays runs against a database the earlier runs' ids moved on from.
            phases=[Phase.explicit, Phase.generate],
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
