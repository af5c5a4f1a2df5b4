"""A rotation run confirmed twice at the same moment (a double click, two tabs), on PostgreSQL
with two real connections: one set of transfers, never a 500."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from circulation.integrity import find_violations
from collections_app.models import RotationMember, RotationPlan, RotationStop, Transfer
from collections_app.rotation_views import _run_fingerprint
from collections_app.services.rotation import rotation_add, rotation_review
from collections_app.tests.test_forms_sent_twice_concurrency import at_once
from conftest import make_item, make_site

ROUNDS = 20

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")


@pytest.fixture
def shennong(suixian, sui_branch):
    return make_site(suixian, "shennong", "神农部落", "service_point", sui_branch)


def due_plan(attempt, library, consignment, here, there):
    plan = RotationPlan.objects.create(library=library, name=f"循环 {attempt:03}", demand_loans=9)
    RotationStop.objects.create(library=library, plan=plan, position=1, site=here, stay_days=30)
    RotationStop.objects.create(library=library, plan=plan, position=2, site=there, stay_days=30)
    books = [make_item(consignment, here, f"NL6{attempt:03}{n:04}") for n in range(3)]
    rotation_add(plan=plan, items=books)
    RotationMember.objects.filter(plan=plan).update(arrived_at=timezone.now() - timedelta(days=31))
    return plan


@pytest.mark.parametrize("tabs", ["one page", "two tabs"])
def test_a_run_confirmed_twice_at_once_makes_one_set_of_transfers(
    sui_librarian, suixian, sui_consignment, xiaolin_site, shennong, tabs
):
    for attempt in range(ROUNDS):
        plan = due_plan(attempt, suixian, sui_consignment, xiaolin_site, shennong)
        url = reverse("collections:rotation-run", args=[plan.pk])
        confirm = _run_fingerprint(rotation_review(plan=plan))
        first = {"confirm": confirm, "submission": f"a{attempt:031x}"}
        second = {**first, "submission": f"b{attempt:031x}"} if tabs == "two tabs" else first
        codes = at_once(sui_librarian, url, first, second)
        # The later tab may find the plan changed by the first and show it again (200).
        assert sorted(codes) in ([302, 302], [200, 302]), codes
        assert Transfer.objects.filter(note__contains=plan.name).count() == 1
        transfer = Transfer.objects.get(note__contains=plan.name)
        assert transfer.lines.count() == 3
    assert find_violations() == []
