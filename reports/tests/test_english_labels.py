"""Report pages in English name what they show in English: CLC classes by their stored English
name, consignments with ASCII brackets, and a display with no end date as open-ended."""

import pytest

from collections_app.models import ClcClass, Display
from reports.tests.test_views import loans  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def english(client_for, user):
    user.language = "en"
    user.save(update_fields=["language"])
    return client_for(user)


def test_report_rows_name_clc_classes_in_the_pages_language(loans, client_for, sui_librarian):  # noqa: F811
    literature = ClcClass.objects.get(code="I")
    assert literature.name_en and literature.name_zh
    url = "/reports/?period=2026-05&rows=clc_top&cols=site"
    chinese = client_for(sui_librarian).get(url).content.decode()
    assert f"I {literature.name_zh}" in chinese
    page = english(client_for, sui_librarian).get(url).content.decode()
    assert f"I {literature.name_en}" in page
    assert f"I {literature.name_zh}" not in page


def test_consignment_choices_and_rows_use_the_languages_brackets(
    loans,  # noqa: F811
    client_for,
    sui_librarian,
    sui_consignment,
):
    url = "/reports/?period=2026-05&rows=consignment"
    chinese = client_for(sui_librarian).get(url).content.decode()
    assert f"{sui_consignment.reference}（随县图书馆）" in chinese
    page = english(client_for, sui_librarian).get(url).content.decode()
    assert f"{sui_consignment.reference} (随县图书馆)" in page
    assert "（" not in page.split("<main", 1)[-1]


def test_the_holdings_report_says_an_open_display_runs_since_its_start(
    loans,  # noqa: F811
    client_for,
    sui_librarian,
    sui_central,
):
    Display.objects.create(
        library=sui_central.library, site=sui_central, name="国图文献专架", starts_on="2026-01-01"
    )
    chinese = client_for(sui_librarian).get("/reports/holdings/").content.decode()
    assert "2026-01-01 起至今" in chinese
    page = english(client_for, sui_librarian).get("/reports/holdings/").content.decode()
    assert "since 2026-01-01" in page and "至今" not in page
