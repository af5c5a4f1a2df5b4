"""The staff account's page in the admin: every input has a label a screen reader reads out
(axe's `label` rule), in the page's language."""

import re

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "date", "time"), [("zh-hans", "日期：", "时间："), ("en", "Date:", "Time:")]
)
def test_the_sign_in_and_joining_dates_have_a_label_for_each_input(
    client_for, superuser, sui_librarian, language, date, time
):
    sui_librarian.last_login = timezone.now()
    sui_librarian.save(update_fields=["last_login"])
    client = client_for(superuser)
    client.cookies["django_language"] = language
    html = client.get(f"/admin/accounts/user/{sui_librarian.pk}/change/").content.decode()
    for field in ("last_login", "date_joined"):
        for part, word in (("0", date), ("1", time)):
            assert re.search(rf'<label for="id_{field}_{part}">{word}</label>', html), (field, part)
            assert f'id="id_{field}_{part}"' in html
