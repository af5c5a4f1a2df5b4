"""Refusals that the pages' forms make are made by the services too, for every entry point."""

import pytest

from circulation.models import LoanRule
from circulation.services.patrons import patron_suspend
from circulation.services.rules import loan_rule_save
from collections_app.errors import Refused


@pytest.mark.parametrize("days", [0, 366, 10_000])
def test_a_loan_rule_keeps_its_loan_days_within_a_year(sui_librarian, suixian, days):
    with pytest.raises(Refused, match="借期应在 1 到 365 天之间"):
        loan_rule_save(
            user=sui_librarian,
            library=suixian,
            category="adult",
            site_kind="",
            loan_days=days,
            max_items=5,
            max_renewals=1,
        )
    assert not LoanRule.objects.exists()


def test_a_suspension_reason_longer_than_the_form_allows_is_refused(sui_librarian, wang):
    with pytest.raises(Refused, match="最多 200 字"):
        patron_suspend(user=sui_librarian, patron=wang, reason="逾" * 201)
    wang.refresh_from_db()
    assert not wang.is_suspended
    patron_suspend(user=sui_librarian, patron=wang, reason="逾" * 200)
    wang.refresh_from_db()
    assert wang.is_suspended
