"""The rotation plan pages: saving a plan, adding members and running it go through the rotation
services, and every refusal is said on the page, never a 500."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from circulation.integrity import find_violations
from collections_app.models import (
    Box,
    Item,
    RotationMember,
    RotationPlan,
    RotationStop,
    Transfer,
)
from collections_app.services.boxes import box_pack
from collections_app.services.items import item_transition
from collections_app.services.rotation import rotation_add
from conftest import DESKTOP, PHONE, make_item, make_site

START = timezone.datetime(2026, 3, 1, 9, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def shennong(suixian, sui_branch):
    return make_site(suixian, "shennong", "神农部落", "service_point", sui_branch)


@pytest.fixture
def plan(suixian, xiaolin_site, shennong):
    plan = RotationPlan.objects.create(library=suixian, name="小林—神农循环", demand_loans=9)
    RotationStop.objects.create(
        library=suixian, plan=plan, position=1, site=xiaolin_site, stay_days=30
    )
    RotationStop.objects.create(
        library=suixian, plan=plan, position=2, site=shennong, stay_days=30, capacity=10
    )
    return plan


@pytest.fixture
def books(sui_consignment, xiaolin_site):
    return [make_item(sui_consignment, xiaolin_site, f"NL5000000{n}") for n in range(4)]


@pytest.fixture
def librarian(client_for, sui_librarian):
    return client_for(sui_librarian)


def plan_form(plan, stops, **fields):
    """What the edit page sends: the plan's fields and one row per (stop or None, site, days)."""
    data = {
        "name": plan.name,
        "demand_loans": plan.demand_loans,
        "is_cyclical": "on",
        "is_active": "on",
        "stops-TOTAL_FORMS": len(stops),
        "stops-INITIAL_FORMS": sum(1 for stop, *_ in stops if stop is not None),
        **fields,
    }
    for n, (stop, site, days, *delete) in enumerate(stops):
        if stop is not None:
            data[f"stops-{n}-id"] = stop.pk
        data[f"stops-{n}-site"] = site.pk if site else ""
        data[f"stops-{n}-stay_days"] = days or ""
        if delete:
            data[f"stops-{n}-DELETE"] = "on"
    return data


def stops_of(plan):
    return list(plan.stops.order_by("position").values_list("site__code", "stay_days"))


def page_of(response):
    return response.content.decode()


# Saving a plan


def test_a_plan_edited_with_the_same_site_twice_is_refused_and_nothing_changes(
    librarian, plan, xiaolin_site, shennong
):
    first, second = plan.stops.order_by("position")
    before = stops_of(plan)
    response = librarian.post(
        reverse("collections:rotation-edit", args=[plan.pk]),
        plan_form(
            plan,
            [(first, xiaolin_site, 30), (second, xiaolin_site, 45)],
            name="改名的计划",
        ),
    )
    assert response.status_code == 200
    page = page_of(response)
    assert "同一站点不能出现两次" in page and "第 2 站" in page
    plan.refresh_from_db()
    assert plan.name == "小林—神农循环"
    assert stops_of(plan) == before


def test_a_new_row_at_a_site_already_on_the_plan_is_refused(
    librarian, plan, xiaolin_site, shennong
):
    first, second = plan.stops.order_by("position")
    response = librarian.post(
        reverse("collections:rotation-edit", args=[plan.pk]),
        plan_form(plan, [(first, xiaolin_site, 30), (second, shennong, 30), (None, shennong, 7)]),
    )
    assert response.status_code == 200
    assert "“神农部落”已是第 2 站" in page_of(response)
    assert plan.stops.count() == 2


def test_a_new_plan_without_stops_is_refused_and_not_created(librarian, suixian):
    response = librarian.post(
        reverse("collections:rotation-new"),
        plan_form(RotationPlan(name="空计划", demand_loans=3), [], submission="a" * 32),
    )
    assert response.status_code == 200
    assert "至少要有一个站点" in page_of(response)
    assert not RotationPlan.objects.exists()
    # The refusal gave the key back: the corrected form is saved, not sent to a first result.
    assert "新建轮换计划" in page_of(response)


def test_a_plan_whose_every_stop_is_deleted_is_refused_and_keeps_its_stops(
    librarian, plan, xiaolin_site, shennong
):
    first, second = plan.stops.order_by("position")
    before = stops_of(plan)
    response = librarian.post(
        reverse("collections:rotation-edit", args=[plan.pk]),
        plan_form(plan, [(first, xiaolin_site, 30, "delete"), (second, shennong, 30, "delete")]),
    )
    assert response.status_code == 200
    assert "至少要有一个站点" in page_of(response)
    assert stops_of(plan) == before


def test_a_stop_without_a_stay_is_said_once_in_plain_words(librarian, sui_central):
    response = librarian.post(
        reverse("collections:rotation-new"),
        plan_form(RotationPlan(name="无期限", demand_loans=3), [(None, sui_central, None)]),
    )
    page = page_of(response)
    assert response.status_code == 200
    assert page.count("请填写停留天数或停留至借出次数") == 1
    assert "stop_has_a_stay" not in page
    assert not RotationPlan.objects.exists()


def test_deleting_a_stop_where_volumes_rotate_is_refused_with_a_message_not_a_500(
    librarian, plan, books, xiaolin_site, shennong
):
    first, second = plan.stops.order_by("position")
    rotation_add(plan=plan, items=books[:1])
    response = librarian.post(
        reverse("collections:rotation-edit", args=[plan.pk]),
        plan_form(plan, [(first, xiaolin_site, 30, "delete"), (second, shennong, 30)]),
    )
    assert response.status_code == 200
    assert "还有轮换中的图书" in page_of(response)
    assert plan.stops.count() == 2


def test_a_plan_is_saved_through_the_service_renumbered_in_the_order_shown(
    librarian, plan, xiaolin_site, shennong, sui_central
):
    first, second = plan.stops.order_by("position")
    response = librarian.post(
        reverse("collections:rotation-edit", args=[plan.pk]),
        plan_form(
            plan,
            [(first, xiaolin_site, 30, "delete"), (second, shennong, 20), (None, sui_central, 10)],
        ),
    )
    assert response.status_code == 302
    assert stops_of(plan) == [("shennong", 20), ("central", 10)]
    assert plan.stops.get(position=1).pk == second.pk


def test_a_stop_at_a_site_closed_since_can_be_kept(librarian, plan, xiaolin_site, shennong):
    shennong.is_active = False
    shennong.save()
    first, second = plan.stops.order_by("position")
    response = librarian.post(
        reverse("collections:rotation-edit", args=[plan.pk]),
        plan_form(plan, [(first, xiaolin_site, 40), (second, shennong, 30)]),
    )
    assert response.status_code == 302
    assert stops_of(plan) == [("xiaolin", 40), ("shennong", 30)]


# Adding members


def test_adding_a_lost_volume_names_it_with_its_reason_and_adds_nothing(
    librarian, plan, books, sui_librarian
):
    lost = books[1]
    item_transition(items=[lost], kind="status_changed", to_status=Item.Status.MISSING)
    pasted = f"{books[0].barcode}\n{lost.barcode}\nNL99999999\n{books[2].barcode}"
    response = librarian.post(
        reverse("collections:rotation-add-items", args=[plan.pk]), {"barcodes": pasted}, follow=True
    )
    page = page_of(response)
    assert f"第 2 行：{lost.barcode} 状态为“丢失”，不能参加轮换" in page
    assert "第 3 行：NL99999999 不是本馆的图书或书箱条码" in page
    assert "未做任何更改" in page
    assert not RotationMember.objects.exists()
    assert find_violations() == []


def test_adding_a_loose_volume_of_a_box_says_to_add_the_box(
    librarian, plan, books, sui_librarian, suixian
):
    box = Box.objects.create(library=suixian, code="BX0501", name="小林书箱")
    box_pack(user=sui_librarian, box=box, items=books[:2])
    response = librarian.post(
        reverse("collections:rotation-add-items", args=[plan.pk]),
        {"barcodes": f"{books[2].barcode}\n{books[1].barcode}"},
        follow=True,
    )
    assert f"第 2 行：{books[1].barcode} 在流动书箱 BX0501 中" in page_of(response)
    assert not RotationMember.objects.exists()


def test_adding_volumes_in_service_puts_them_on_the_plan(librarian, plan, books):
    response = librarian.post(
        reverse("collections:rotation-add-items", args=[plan.pk]),
        {"barcodes": " ".join(book.barcode for book in books[:3])},
        follow=True,
    )
    assert "已加入 3 项" in page_of(response)
    assert RotationMember.objects.filter(plan=plan).count() == 3


# Running a plan


@pytest.fixture
def due(plan, books):
    with time_machine.travel(START, tick=False):
        rotation_add(plan=plan, items=books[:3])
    with time_machine.travel(START + timedelta(days=31), tick=False):
        yield plan


def test_the_run_first_shows_what_it_would_do_and_creates_nothing(librarian, due):
    response = librarian.post(reverse("collections:rotation-run", args=[due.pk]))
    page = page_of(response)
    assert response.status_code == 200
    assert "小林一中 → 神农部落" in page and "NL50000002" in page
    assert 'name="confirm"' in page
    assert not Transfer.objects.exists()


def test_the_confirmed_run_links_the_transfers_it_created(librarian, due):
    url = reverse("collections:rotation-run", args=[due.pk])
    shown = librarian.post(url)
    confirm = {
        "confirm": shown.context["fingerprint"],
        "submission": shown.context["submission"],
    }
    response = librarian.post(url, confirm, follow=True)
    transfer = Transfer.objects.get()
    assert transfer.lines.count() == 3
    link = reverse("collections:transfer-detail", args=[transfer.pk])
    assert f'<a href="{link}">#{transfer.pk} 小林一中 → 神农部落</a>' in page_of(response)
    # The same confirmation sent again makes nothing more.
    librarian.post(url, confirm)
    assert Transfer.objects.count() == 1
    assert find_violations() == []


def test_a_plan_changed_since_it_was_shown_is_shown_again_not_run(librarian, due, books):
    """A volume written off between the look and the click: the run is shown again."""
    url = reverse("collections:rotation-run", args=[due.pk])
    shown = librarian.post(url)
    item_transition(items=[books[0]], kind="status_changed", to_status=Item.Status.WITHDRAWN)
    response = librarian.post(
        url, {"confirm": shown.context["fingerprint"], "submission": shown.context["submission"]}
    )
    assert response.status_code == 200
    assert "请按现在的情况再次核对" in page_of(response)
    assert not Transfer.objects.exists()


def test_the_plan_page_button_leads_to_the_confirmation(librarian, due):
    page = page_of(librarian.get(reverse("collections:rotation-detail", args=[due.pk])))
    form = page[page.index(reverse("collections:rotation-run", args=[due.pk])) :]
    assert "生成轮换调拨单" in form[: form.index("</form>")]
    assert 'name="confirm"' not in form[: form.index("</form>")]


# In a browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_the_edit_page_keeps_checkboxes_small_and_refuses_a_site_twice(
    browser_page, sui_librarian, plan, screenshot
):
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "suixian")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_url("**/")
    page.goto(reverse("collections:rotation-edit", args=[plan.pk]))
    for name in ("is_cyclical", "is_active", "stops-0-DELETE"):
        box = page.locator(f"input[name='{name}']").bounding_box()
        label = page.locator(f"label[for='id_{name}']").bounding_box()
        assert box["width"] < 30 and box["height"] < 30, name
        assert box["x"] - label["x"] < 10, name  # at the start of its field, under its label
    page.select_option("select[name='stops-1-site']", label="小林一中（基层服务点）")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=同一站点不能出现两次")
    screenshot(page, "refused")
    assert list(plan.stops.order_by("position").values_list("site__code", flat=True)) == [
        "xiaolin",
        "shennong",
    ]


def test_whoever_a_plans_page_offers_editing_may_open_the_editor(client_for, superuser, plan):
    # The superuser manages every library: the plan's page offers 编辑计划, and the editor must
    # not then refuse (it asked for the user's own library, which a superuser has none of).
    client = client_for(superuser)
    detail = client.get(reverse("collections:rotation-detail", args=[plan.pk])).content.decode()
    edit = reverse("collections:rotation-edit", args=[plan.pk])
    assert f'href="{edit}"' in detail
    assert client.get(edit).status_code == 200
