"""Circulation fixtures: Sui County's loan rules and two readers."""

import pytest

from circulation.models import LoanRule, Patron


@pytest.fixture
def loan_rules(suixian):
    return [
        LoanRule.objects.create(
            library=suixian,
            category=category,
            loan_days=30,
            max_items=3,
            max_renewals=1,
            blocks_when_overdue=True,
            hold_pickup_days=7,
        )
        for category in Patron.Category.values
    ]


@pytest.fixture
def wang(sui_central, loan_rules):
    return Patron.objects.create(
        library=sui_central.library,
        card_number="SX000001",
        name="王芳",
        phone="13800000001",
        category=Patron.Category.STUDENT,
        home_site=sui_central,
        birth_year=2010,
    )


@pytest.fixture
def li(xiaolin_site, loan_rules):
    return Patron.objects.create(
        library=xiaolin_site.library,
        card_number="SX000002",
        name="李强",
        category=Patron.Category.ADULT,
        home_site=xiaolin_site,
        birth_year=1980,
    )


@pytest.fixture
def zengdu_reader(zengdu_central):
    return Patron.objects.create(
        library=zengdu_central.library,
        card_number="ZD000001",
        name="赵敏",
        category=Patron.Category.ADULT,
        home_site=zengdu_central,
    )
