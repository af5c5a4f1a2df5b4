import pytest

from circulation.models import LoanRule, Patron


@pytest.fixture
def reader(sui_central):
    """A reader of Sui County with loan rules roomy enough for a self-check machine's retries."""
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=sui_central.library, category=category, loan_days=30, max_items=50
        )
    return Patron.objects.create(
        library=sui_central.library,
        card_number="SX000001",
        name="王芳",
        category=Patron.Category.ADULT,
        home_site=sui_central,
    )
