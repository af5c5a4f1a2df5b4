"""Rotation plans: who moves on, who stays (in demand), who waits (on loan, full), and arrival."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from collections_app.models import (
    Item,
    ItemEvent,
    RotationMember,
    RotationPlan,
    RotationStop,
    Transfer,
)
from collections_app.services.rotation import (
    Action,
    rotation_add,
    rotation_execute,
    rotation_review,
)
from collections_app.services.transfers import transfer_dispatch, transfer_receive
from conftest import make_item, make_site

START = timezone.datetime(2026, 3, 1, 9, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def shennong(suixian, sui_branch):
    return make_site(suixian, "shennong", "神农部落", "service_point", sui_branch)


@pytest.fixture
def plan(suixian, xiaolin_site, shennong):
    plan = RotationPlan.objects.create(library=suixian, name="小林—神农循环", demand_loans=2)
    RotationStop.objects.create(
        library=suixian, plan=plan, position=1, site=xiaolin_site, stay_days=30
    )
    RotationStop.objects.create(
        library=suixian, plan=plan, position=2, site=shennong, stay_days=30, capacity=3
    )
    return plan


@pytest.fixture
def books(sui_consignment, xiaolin_site):
    return [make_item(sui_consignment, xiaolin_site, f"NL4000000{n}") for n in range(4)]


def decisions_by_barcode(plan, now):
    return {d.member.item.barcode: d for d in rotation_review(plan=plan, now=now)}


def test_items_move_on_when_their_stay_is_over(plan, books):
    with time_machine.travel(START):
        rotation_add(plan=plan, items=books[:2])
    early = decisions_by_barcode(plan, START + timedelta(days=10))
    assert {d.action for d in early.values()} == {Action.NOT_DUE}
    late = decisions_by_barcode(plan, START + timedelta(days=31))
    assert {d.action for d in late.values()} == {Action.MOVE}
    assert {d.next_stop.site.name for d in late.values()} == {"神农部落"}


def test_an_item_in_demand_stays_one_more_period(plan, books, xiaolin_site):
    with time_machine.travel(START):
        rotation_add(plan=plan, items=books[:1])
    for day in (3, 9):
        ItemEvent.objects.create(
            library=books[0].library,
            item=books[0],
            kind="checked_out",
            at=START + timedelta(days=day),
            from_status="available",
            to_status="on_loan",
            from_site=xiaolin_site,
            to_site=xiaolin_site,
        )
    decision = decisions_by_barcode(plan, START + timedelta(days=31))[books[0].barcode]
    assert decision.action == Action.STAY_IN_DEMAND
    assert "2" in decision.reason


def test_an_item_on_loan_waits_and_a_full_stop_holds_back(plan, books, sui_librarian):
    with time_machine.travel(START):
        rotation_add(plan=plan, items=books)
    Item.objects.filter(pk=books[0].pk).update(status="on_loan")
    decisions = decisions_by_barcode(plan, START + timedelta(days=31))
    assert decisions[books[0].barcode].action == Action.WAIT_ON_LOAN
    actions = sorted(decisions[b.barcode].action for b in books[1:])
    # 神农部落 takes at most 3 volumes of this plan: all three free ones fit.
    assert actions == [Action.MOVE] * 3
    Item.objects.filter(pk=books[0].pk).update(status="available")
    decisions = decisions_by_barcode(plan, START + timedelta(days=31))
    assert sorted(d.action for d in decisions.values()) == [Action.MOVE] * 3 + [Action.WAIT_FULL]


def test_executing_creates_one_draft_per_route_and_receipt_advances_the_plan(
    plan, books, sui_librarian, shennong
):
    with time_machine.travel(START):
        rotation_add(plan=plan, items=books[:2])
    with time_machine.travel(START + timedelta(days=31)):
        transfers = rotation_execute(user=sui_librarian, plan=plan)
        assert len(transfers) == 1
        transfer = transfers[0]
        assert transfer.reason == "rotation" and transfer.destination == shennong
        assert transfer.lines.count() == 2
        again = rotation_review(plan=plan)
        assert {d.action for d in again} == {Action.WAIT_IN_TRANSIT}
        transfer_dispatch(user=sui_librarian, transfer=transfer)
        transfer_receive(
            user=sui_librarian,
            transfer=transfer,
            site=shennong,
            barcodes=[b.barcode for b in books[:2]],
        )
    members = RotationMember.objects.filter(plan=plan)
    assert {member.stop.site_id for member in members} == {shennong.pk}
    back = rotation_review(plan=plan, now=START + timedelta(days=62))
    assert {d.next_stop.site.name for d in back} == {"小林一中"}


def test_run_rotation_is_a_dry_run_unless_told_to_execute(plan, books, sui_librarian, capsys):
    with time_machine.travel(START):
        rotation_add(plan=plan, items=books[:2])
    with time_machine.travel(START + timedelta(days=31)):
        call_command("run_rotation", "--library", "SUIXIAN")
        out = capsys.readouterr().out
        assert "前往下一站" in out and books[0].barcode in out
        assert not Transfer.objects.exists()
        call_command("run_rotation", "--library", "SUIXIAN", "--execute")
        assert Transfer.objects.count() == 1
