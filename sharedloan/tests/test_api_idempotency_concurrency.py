"""The same Idempotency-Key sent twice at the same moment, on PostgreSQL with two real
connections: the second request waits for the first and answers as a retry does — one loan,
the same answer twice, never a 500."""

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tokens import api_token_create
from circulation.integrity import find_violations
from circulation.models import Loan
from circulation.services import loans
from conftest import make_item
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CHECKOUT = "/api/v1/circulation/checkout/"


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


@pytest.fixture
def secret(sui_librarian):
    return api_token_create(user=sui_librarian, name="自助借还机")[1]


def send(secret, barcode, key, answers, index, barrier=None):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    try:
        if barrier is not None:
            barrier.wait(timeout=10)
        answers[index] = client.post(
            CHECKOUT,
            {"site": "SUIXIAN.central", "barcode": barcode, "card_number": "SX000001"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
    finally:
        connection.close()


def test_the_second_request_waits_for_the_first_and_gets_its_answer(
    secret, reader, sui_item, monkeypatch
):
    started, go = threading.Event(), threading.Event()
    real = loans.loan_checkout

    def held(**kwargs):
        if not started.is_set():
            started.set()
            go.wait(timeout=10)
        return real(**kwargs)

    monkeypatch.setattr(loans, "loan_checkout", held)
    answers = [None, None]
    first = threading.Thread(target=send, args=(secret, sui_item.barcode, "k-1", answers, 0))
    first.start()
    assert started.wait(timeout=10)
    second = threading.Thread(target=send, args=(secret, sui_item.barcode, "k-1", answers, 1))
    second.start()
    time.sleep(0.5)
    assert second.is_alive(), "the second request must wait while the first holds the key"
    go.set()
    first.join(timeout=20)
    second.join(timeout=20)
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[1].content == answers[0].content
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert Loan.objects.filter(item=sui_item).count() == 1
    assert find_violations() == []


def test_the_same_key_with_another_body_at_the_same_moment_is_422_for_one(
    secret, reader, sui_consignment, sui_central
):
    for attempt in range(10):
        items = [
            make_item(sui_consignment, sui_central, f"NL71{attempt:02d}{n}", title=f"书{n}")
            for n in range(2)
        ]
        answers, barrier = [None, None], threading.Barrier(2)
        threads = [
            threading.Thread(
                target=send, args=(secret, item.barcode, f"k2-{attempt}", answers, n, barrier)
            )
            for n, item in enumerate(items)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(answer.status_code for answer in answers) == [201, 422]
        assert Loan.objects.filter(item__in=items).count() == 1
    assert find_violations() == []


def test_the_same_request_sent_twice_at_once_lends_once_every_time(
    secret, reader, sui_consignment, sui_central
):
    for attempt in range(15):
        item = make_item(sui_consignment, sui_central, f"NL72{attempt:03d}")
        answers, barrier = [None, None], threading.Barrier(2)
        threads = [
            threading.Thread(
                target=send, args=(secret, item.barcode, f"k3-{attempt}", answers, n, barrier)
            )
            for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert [answer.status_code for answer in answers] == [201, 201]
        assert answers[0].content == answers[1].content
        assert Loan.objects.filter(item=item).count() == 1
    assert find_violations() == []
