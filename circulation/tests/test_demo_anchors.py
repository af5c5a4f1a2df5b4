"""The demo adds up on every anchor date, as `check_integrity` proves it.

`make run` seeds the demo anchored on the day it runs, so a demo that is broken on one day in a
hundred is broken for somebody every week: the anchors are swept by hypothesis from 2020 to 2035
at a small scale, and the days that once failed are kept as regression cases, each at the
smallest scale that failed.
"""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from circulation.demo.seed import EARLIEST_ANCHOR, seed_demo
from circulation.integrity import find_violations
from collections_app.models import Item, ItemEvent, Library, Transfer

SMALL = 0.02


def assert_the_demo_adds_up() -> None:
    assert find_violations() == []
    # Every history row names the sites before and after, as item_transition writes them.
    assert not ItemEvent.objects.filter(to_site__isnull=True).exists()
    assert not ItemEvent.objects.filter(from_site__isnull=True).exists()
    assert Transfer.objects.filter(status=Transfer.Status.DRAFT).exists()


def seed_and_check(anchor: date, scale: float) -> None:
    summary = seed_demo(today=anchor, scale=scale)
    assert summary.created["items"] == Item.objects.count() > 0
    assert_the_demo_adds_up()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(anchor=st.dates(date(2020, 1, 1), date(2035, 12, 31)))
@example(anchor=EARLIEST_ANCHOR)
@example(anchor=date(2028, 2, 29))
@example(anchor=date(2026, 11, 30))
def test_the_demo_adds_up_on_any_anchor_date(db, anchor):
    with transaction.atomic():
        if anchor < EARLIEST_ANCHOR:
            # Before the volumes came there is no year to simulate: refused, nothing written.
            with pytest.raises(CommandError):
                call_command("seed_demo", "--today", anchor.isoformat(), stdout=StringIO())
            assert not Library.objects.exists()
        else:
            seed_and_check(anchor, SMALL)
        transaction.set_rollback(True)


# Anchors on which the simulation once put one volume on two draft transfers
# (UNIQUE constraint failed: collections_app_transferline.item_id), each at the smallest scale
# that failed; at full scale all three failed.
@pytest.mark.parametrize(
    ("anchor", "scale"),
    [(date(2026, 11, 29), 0.02), (date(2026, 11, 30), 0.45), (date(2027, 3, 1), 0.04)],
)
def test_the_demo_adds_up_on_the_days_it_once_failed(db, anchor, scale):
    seed_and_check(anchor, scale)


def test_seed_demo_refuses_an_anchor_before_the_volumes_came():
    with pytest.raises(ValueError):
        seed_demo(today=date(2021, 5, 1), scale=SMALL)
