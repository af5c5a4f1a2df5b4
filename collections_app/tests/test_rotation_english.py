"""A rotation run and a plan's refusals in English: volumes named as “barcode (status)” in a
comma-separated list and a stop's problem after an ASCII colon; Chinese keeps （）、 and ：."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from collections_app.errors import Refused
from collections_app.models import RotationPlan
from collections_app.services.items import item_transition
from collections_app.services.rotation import (
    Action,
    StopSpec,
    rotation_add,
    rotation_plan_save,
)
from collections_app.tests.test_rotation import (  # noqa: F401  (fixtures)
    START,
    books,
    decisions_by_barcode,
    plan,
    shennong,
)

pytestmark = pytest.mark.django_db


def test_a_volume_out_of_service_is_named_in_the_languages_brackets(plan, books):  # noqa: F811
    with time_machine.travel(START):
        rotation_add(plan=plan, items=books[:1])
    item_transition(items=[books[0]], kind="status_changed", to_status="missing")
    later = START + timedelta(days=31)
    decision = decisions_by_barcode(plan, later)[books[0].barcode]
    assert decision.action == Action.OUT_OF_SERVICE
    assert decision.reason.startswith(f"{books[0].barcode}（") and decision.reason.endswith("）")
    with translation.override("en"):
        reason = decisions_by_barcode(plan, later)[books[0].barcode].reason
    assert reason.startswith(f"{books[0].barcode} (") and "（" not in reason


def test_a_plans_refusal_names_each_stop_with_the_languages_colon(
    sui_librarian, suixian, xiaolin_site
):
    stops = [StopSpec(site=xiaolin_site, stay_days=None, stay_loans=None)]
    with pytest.raises(Refused) as chinese:
        rotation_plan_save(
            user=sui_librarian, plan=RotationPlan(library=suixian, name="甲"), stops=stops
        )
    assert "第 1 站：" in str(chinese.value)
    with translation.override("en"), pytest.raises(Refused) as english:
        rotation_plan_save(
            user=sui_librarian, plan=RotationPlan(library=suixian, name="乙"), stops=stops
        )
    with translation.override("en"):
        text = str(english.value)
    assert "Stop 1: " in text and "：" not in text
