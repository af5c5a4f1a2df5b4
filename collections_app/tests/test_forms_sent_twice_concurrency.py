"""Every create form sent twice at the same moment (a double click, two tabs), on PostgreSQL
with two real connections: one row, the other answer a redirect to it, never a 500."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from circulation.integrity import find_violations
from circulation.models import ClosedDay
from collections_app.models import Box, Display, RotationPlan, Transfer

ROUNDS = 20

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


def at_once(user, url, *payloads):
    """POST each payload from its own client and connection, released together; the codes."""
    barrier = threading.Barrier(len(payloads))
    codes = [None] * len(payloads)

    def run(index, data):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        try:
            barrier.wait(timeout=10)
            codes[index] = client.post(url, data).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def integrity_clean():
    assert find_violations() == []


def test_a_transfer_form_sent_twice_at_once_makes_one_transfer(
    sui_librarian, sui_central, xiaolin_site
):
    url = reverse("collections:transfer-new")
    for attempt in range(ROUNDS):
        data = {
            "source": sui_central.pk,
            "destination": xiaolin_site.pk,
            "reason": "allocation",
            "note": f"第 {attempt} 次",
            "submission": f"{attempt:032x}",
        }
        assert at_once(sui_librarian, url, data, data) == [302, 302]
        assert Transfer.objects.filter(note=f"第 {attempt} 次").count() == 1
    integrity_clean()


def test_a_display_form_sent_twice_at_once_makes_one_display(sui_librarian, sui_central):
    url = reverse("collections:display-new")
    for attempt in range(ROUNDS):
        data = {
            "site": sui_central.pk,
            "name": f"专架 {attempt}",
            "kind": "shelf",
            "starts_on": "2026-01-01",
            "submission": f"{attempt:032x}",
        }
        assert at_once(sui_librarian, url, data, data) == [302, 302]
        assert Display.objects.filter(name=f"专架 {attempt}").count() == 1
    integrity_clean()


def test_a_rotation_plan_sent_twice_at_once_makes_one_plan(
    sui_librarian, sui_central, xiaolin_site
):
    url = reverse("collections:rotation-new")
    for attempt in range(ROUNDS):
        data = {
            "name": f"循环 {attempt}",
            "demand_loans": 3,
            "is_active": "on",
            "stops-TOTAL_FORMS": 2,
            "stops-INITIAL_FORMS": 0,
            "stops-0-site": sui_central.pk,
            "stops-0-stay_days": 30,
            "stops-1-site": xiaolin_site.pk,
            "stops-1-stay_days": 30,
            "submission": f"{attempt:032x}",
        }
        assert at_once(sui_librarian, url, data, data) == [302, 302]
        assert RotationPlan.objects.filter(name=f"循环 {attempt}").count() == 1
    integrity_clean()


def test_one_box_code_sent_from_two_forms_at_once_makes_one_box(sui_librarian):
    url = reverse("collections:box-list")
    for attempt in range(ROUNDS):
        code = f"BOX-{attempt:03}"
        first = {"code": code, "name": "甲", "submission": f"a{attempt:031x}"}
        second = {"code": code, "name": "乙", "submission": f"b{attempt:031x}"}
        # Two different forms: one box, and the other told the code is taken (200), not a 500.
        assert sorted(at_once(sui_librarian, url, first, second)) == [200, 302]
        assert Box.objects.filter(code=code).count() == 1
    integrity_clean()


def test_the_same_closed_days_added_twice_at_once_are_marked_once(sui_librarian, suixian):
    url = reverse("circulation:closed-days")
    for attempt in range(ROUNDS):
        day = f"2027-{attempt % 12 + 1:02}-{attempt // 12 + 10}"
        data = {"first": day, "reason": "闭馆"}
        assert at_once(sui_librarian, url, data, data) == [302, 302]
        assert ClosedDay.objects.filter(library=suixian, date=day).count() == 1
    integrity_clean()
