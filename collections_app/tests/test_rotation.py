"""Rotation plans: who moves on, who stays (in demand), who waits (on loan, full), and arrival."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from collections_app.errors import Refused
from collections_app.models import (
    Box,
    Item,
    ItemEvent,
    RotationMember,
    RotationPlan,
    RotationStop,
    Transfer,
    TransferLine,
)
from collections_app.services.boxes import box_pack
from collections_app.services.items import item_transition
from collections_app.services.rotation import (
    Action,
    StopSpec,
    rotation_add,
    rotation_execute,
    rotation_plan_save,
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


@pytest.fixture
def crowd(sui_consignment, xiaolin_site):
    """Eight volumes at 小林一中, more than 神农部落 may hold."""
    return [make_item(sui_consignment, xiaolin_site, f"NL4100000{n}") for n in range(8)]


def test_running_again_before_anything_is_received_plans_nothing(
    plan, crowd, sui_librarian, shennong, capsys
):
    """神农部落 is capped at 4 volumes of the plan. The first run sends 4; a second run before
    they are received used to count them still at 小林一中 and sent 4 more (8 to a stop of 4)."""
    plan.stops.filter(site=shennong).update(capacity=4)
    with time_machine.travel(START):
        rotation_add(plan=plan, items=crowd)
    with time_machine.travel(START + timedelta(days=31)):
        call_command("run_rotation", "--library", "SUIXIAN", "--execute")
        first = capsys.readouterr().out
        assert "4 册图书，生成 1 张调拨单" in first
        call_command("run_rotation", "--library", "SUIXIAN", "--execute")
        second = capsys.readouterr().out
        assert "0 册图书，生成 0 张调拨单" in second
        assert "前往下一站" not in second
        actions = sorted(d.action for d in rotation_review(plan=plan))
    assert actions == sorted([Action.WAIT_IN_TRANSIT] * 4 + [Action.WAIT_FULL] * 4)
    heading = TransferLine.objects.filter(transfer__destination=shennong, is_open=True)
    assert heading.count() == 4


def test_a_volume_on_its_way_counts_at_its_destination(
    plan, crowd, sui_librarian, shennong, xiaolin_site
):
    plan.stops.filter(site=shennong).update(capacity=4)
    with time_machine.travel(START):
        rotation_add(plan=plan, items=crowd[:4])
    with time_machine.travel(START + timedelta(days=31)):
        (transfer,) = rotation_execute(user=sui_librarian, plan=plan)
        transfer_dispatch(user=sui_librarian, transfer=transfer)
        # Four more arrive at 小林一中 later and are due in turn: 神农部落 is already full.
        with time_machine.travel(START):
            rotation_add(plan=plan, items=crowd[4:])
        assert rotation_execute(user=sui_librarian, plan=plan) == []
        transfer_receive(
            user=sui_librarian,
            transfer=transfer,
            site=shennong,
            barcodes=[b.barcode for b in crowd[:4]],
        )
    assert Item.objects.filter(current_site=shennong).count() == 4
    assert Item.objects.filter(current_site=xiaolin_site).count() == 4


@pytest.mark.parametrize("status", ["missing", "withdrawn", "damaged", "returned_to_lender"])
def test_a_plan_refuses_volumes_out_of_service(plan, books, status):
    Item.objects.filter(pk=books[1].pk).update(status=status)
    with pytest.raises(Refused) as refused:
        rotation_add(plan=plan, items=books[:3])
    assert [p.where for p in refused.value.problems] == [books[1].barcode]
    assert not RotationMember.objects.exists()


def test_a_plan_takes_a_boxed_volume_only_with_its_box(plan, books, sui_librarian, suixian):
    box = Box.objects.create(library=suixian, code="BX0401", name="小林书箱")
    box_pack(user=sui_librarian, box=box, items=books[:2])
    with pytest.raises(Refused) as refused:
        rotation_add(plan=plan, items=[books[0]])
    assert "BX0401" in str(refused.value.problems[0])
    assert rotation_add(plan=plan, boxes=[box]) == 1
    with pytest.raises(Refused):
        rotation_add(plan=plan, boxes=[box])


def test_a_plan_needs_a_stop_and_no_site_twice(suixian, sui_librarian, xiaolin_site, shennong):
    draft = RotationPlan(library=suixian, name="新计划")
    with pytest.raises(Refused):
        rotation_plan_save(user=sui_librarian, plan=draft, stops=[])
    twice = [
        StopSpec(site=xiaolin_site, stay_days=30),
        StopSpec(site=shennong, stay_days=30),
        StopSpec(site=xiaolin_site, stay_days=10),
    ]
    with pytest.raises(Refused) as refused:
        rotation_plan_save(user=sui_librarian, plan=draft, stops=twice)
    assert [p.where for p in refused.value.problems] == ["第 3 站"]
    assert not RotationPlan.objects.exists()

    saved = rotation_plan_save(user=sui_librarian, plan=draft, stops=twice[:2])
    assert list(saved.stops.order_by("position").values_list("site", flat=True)) == [
        xiaolin_site.pk,
        shennong.pk,
    ]
    first, second = saved.stops.order_by("position")
    # Reordered and edited: renumbered 1..n in the order given.
    rotation_plan_save(
        user=sui_librarian,
        plan=saved,
        stops=[
            StopSpec(site=shennong, stay_days=20, capacity=5, stop=second),
            StopSpec(site=xiaolin_site, stay_loans=3, stop=first),
        ],
    )
    assert list(saved.stops.order_by("position").values_list("site", "position")) == [
        (shennong.pk, 1),
        (xiaolin_site.pk, 2),
    ]


def test_only_a_librarian_of_the_library_saves_a_plan(
    suixian, zengdu_librarian, xiaolin_volunteer, xiaolin_site
):
    for user in (zengdu_librarian, xiaolin_volunteer):
        with pytest.raises(Refused):
            rotation_plan_save(
                user=user,
                plan=RotationPlan(library=suixian, name="越权"),
                stops=[StopSpec(site=xiaolin_site, stay_days=30)],
            )


def test_a_member_lost_or_moved_elsewhere_stays_out_of_the_run_and_the_rest_moves_on(
    plan, books, sui_librarian, sui_branch, shennong
):
    """One volume reported missing, another carried to 厉山分馆: the run used to be refused as a
    whole (the transfer would not take them); now they are named and the others travel."""
    with time_machine.travel(START):
        rotation_add(plan=plan, items=books[:3])
    item_transition(items=[books[0]], kind="status_changed", to_status="missing")
    item_transition(items=[books[1]], kind="status_changed", to_site=sui_branch)
    with time_machine.travel(START + timedelta(days=31)):
        decisions = decisions_by_barcode(plan, timezone.now())
        assert decisions[books[0].barcode].action == Action.OUT_OF_SERVICE
        assert decisions[books[1].barcode].action == Action.ELSEWHERE
        (transfer,) = rotation_execute(user=sui_librarian, plan=plan)
    assert list(transfer.lines.values_list("item", flat=True)) == [books[2].pk]
    assert transfer.destination == shennong
