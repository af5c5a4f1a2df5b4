"""Suggested moves: idle volumes go where their class is read, within shelf room, optimally."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from collections_app import move_planning as planner
from collections_app.models import ItemEvent, Site, Transfer
from conftest import make_item, make_site


@pytest.fixture
def villages(suixian, sui_branch):
    return [
        make_site(suixian, "shennong", "神农部落", "service_point", sui_branch, capacity=4),
        make_site(suixian, "yandi", "炎帝学校", "service_point", sui_branch),
    ]


def lend_at(item, site, days_ago):
    ItemEvent.objects.create(
        library=item.library,
        item=item,
        kind="checked_out",
        at=timezone.now() - timedelta(days=days_ago),
        from_status="available",
        to_status="on_loan",
        from_site=site,
        to_site=site,
    )


@pytest.fixture
def county(sui_consignment, sui_central, villages):
    shennong, yandi = villages
    idle_s = [
        make_item(sui_consignment, sui_central, f"NL600{n:05}", title="果树栽培", clc="S66")
        for n in range(10)
    ]
    idle_i = [
        make_item(sui_consignment, sui_central, f"NL601{n:05}", title="红楼梦", clc="I242")
        for n in range(10)
    ]
    # 神农部落 reads agriculture hard with 2 volumes; 炎帝学校 reads literature with 1.
    farm = [
        make_item(sui_consignment, shennong, f"NL602{n:05}", title="养猪技术", clc="S8")
        for n in range(2)
    ]
    school = [
        make_item(sui_consignment, yandi, f"NL603{n:05}", title="西游记", clc="I242")
        for n in range(1)
    ]
    for day in range(0, 120, 10):
        for book in farm:
            lend_at(book, shennong, day)
    for day in range(0, 60, 10):
        lend_at(school[0], yandi, day)
    return {"idle_s": idle_s, "idle_i": idle_i}


def test_idle_volumes_go_where_their_class_is_in_demand(suixian, county):
    plan = planner.plan_moves(planner.gather(suixian))
    moves = {(s.destination.code, s.clc_top): s.count for s in plan.suggestions}
    # 神农部落 has room for 2 more (capacity 4, holds 2); 炎帝学校 wants 5 more class I.
    assert moves == {("shennong", "S"): 2, ("yandi", "I"): 5}
    assert plan.gain > 0
    assert plan.gain >= plan.greedy_gain


def test_the_optimum_beats_greedy_when_shelf_room_binds(
    suixian, sui_consignment, sui_central, villages
):
    shennong, yandi = villages
    Site.objects.filter(pk=yandi.pk).update(capacity=3)
    # 炎帝学校 reads both S (rate 6/vol) and I (rate 5/vol) and has room for 2; 神农部落 reads S
    # (rate 4/vol) only. Greedy fills 炎帝学校 with S first and leaves I unserved.
    s_idle = [make_item(sui_consignment, sui_central, f"NL700{n:05}", clc="S5") for n in range(2)]
    i_idle = [make_item(sui_consignment, sui_central, f"NL701{n:05}", clc="I2") for n in range(2)]
    y_s = make_item(sui_consignment, yandi, "NL70200000", clc="S5")
    s_s = make_item(sui_consignment, shennong, "NL70300000", clc="S5")
    y_i = make_item(sui_consignment, yandi, "NL70400000", clc="I2")
    for day in range(6):
        lend_at(y_s, yandi, day * 10)
    for day in range(4):
        lend_at(s_s, shennong, day * 10)
    for day in range(5):
        lend_at(y_i, yandi, day * 10)
    plan = planner.plan_moves(planner.gather(suixian))
    assert plan.gain > plan.greedy_gain
    assert s_idle and i_idle


def test_accepting_suggestions_creates_draft_transfers(client_for, sui_librarian, county):
    client = client_for(sui_librarian)
    page = client.get(reverse("collections:suggestions"))
    assert page.status_code == 200
    moves = [
        f"{s.source.pk}:{s.destination.pk}:{s.clc_top}:{s.count}:90"
        for s in page.context["plan"].suggestions
    ]
    response = client.post(reverse("collections:suggestions-accept"), {"move": moves[:1]})
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (
        transfer.status == "draft"
        and transfer.lines.count() == page.context["plan"].suggestions[0].count
    )


def test_a_forged_suggestion_is_refused_without_a_500(
    client_for, sui_librarian, zengdu_central, county
):
    response = client_for(sui_librarian).post(
        reverse("collections:suggestions-accept"),
        {"move": [f"{zengdu_central.pk}:1:I:5:90", "x"]},
        follow=True,
    )
    assert response.status_code == 200
    assert not Transfer.objects.exists()


def test_suggestions_are_for_county_librarians(client_for, xiaolin_volunteer, hubei_reviewer):
    assert client_for(xiaolin_volunteer).get(reverse("collections:suggestions")).status_code == 403
    assert client_for(hubei_reviewer).get(reverse("collections:suggestions")).status_code == 403
