"""The desk and the overdue notices in English: a title in quotation marks rather than 《》, and
the notice dated the English way, while the Chinese pages keep 《》 and 2026年6月30日."""

from datetime import timedelta

import pytest
from django.utils import formats, timezone, translation

from circulation.models import Loan
from circulation.tests.test_views_desk import scan
from conftest import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked_out(client_for, xiaolin_volunteer, xiaolin_site, wang, sui_consignment):
    make_item(sui_consignment, xiaolin_site, "NL50000000", title="乡土中国")
    scan(client_for(xiaolin_volunteer), xiaolin_site, "NL50000000", card=wang.card_number)
    return Loan.objects.get()


def test_the_desk_quotes_a_title_in_the_pages_language(
    client_for, xiaolin_volunteer, xiaolin_site, wang, checked_out
):
    client = client_for(xiaolin_volunteer)
    assert "《乡土中国》" in scan(client, xiaolin_site, wang.card_number)["reader"]
    xiaolin_volunteer.language = "en"
    xiaolin_volunteer.save(update_fields=["language"])
    reader = scan(client_for(xiaolin_volunteer), xiaolin_site, wang.card_number)["reader"]
    assert "“乡土中国”" in reader and "《" not in reader


def test_an_overdue_notice_is_dated_in_the_pages_language(client_for, sui_librarian, checked_out):
    Loan.objects.filter(pk=checked_out.pk).update(
        checked_out_at=timezone.now() - timedelta(days=40),
        due_at=timezone.now() - timedelta(days=10),
    )
    today = timezone.localdate()
    chinese = client_for(sui_librarian).get("/overdue/notices/").content.decode()
    assert f"{today.year}年{today.month}月{today.day}日" in chinese
    sui_librarian.language = "en"
    sui_librarian.save(update_fields=["language"])
    page = client_for(sui_librarian).get("/overdue/notices/").content.decode()
    with translation.override("en"):
        assert formats.date_format(today, "DATE_FORMAT") in page
    assert f"{today.year}年" not in page
