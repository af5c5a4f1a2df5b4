"""The demo's 读者需求: a year of unmet searches per county, counted through the reader's counter,
not written twice, and shown on the report page."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import User
from collections_app.models import Library, Title
from reports.models import DemandSearch

pytestmark = pytest.mark.django_db


def seed():
    out = StringIO()
    call_command("seed_demo", "--today", "2026-06-30", "--scale", "0.05", stdout=out)
    return out.getvalue()


def test_the_demo_counts_a_year_of_unmet_searches_once(client):
    output = seed()
    total = DemandSearch.objects.aggregate(n=Sum("searches"))["n"]
    assert total and f"未找到的读者检索 {total} 次" in output
    for library in Library.objects.filter(kind=Library.Kind.COUNTY):
        rows = DemandSearch.objects.filter(library=library)
        assert rows.values("month").distinct().count() == 12
        assert rows.filter(site__isnull=False).exists() and rows.exclude(clc_top="").exists()
        for query in rows.values_list("query", flat=True).distinct():
            assert not Title.objects.filter(library=library, title__iexact=query).exists()
    assert DemandSearch.objects.filter(month__gte="2026-06-01", month__lt="2026-07-01").exists()
    assert not DemandSearch.objects.filter(month__gte="2026-07-01").exists()
    seed()
    assert DemandSearch.objects.aggregate(n=Sum("searches"))["n"] == total
    call_command("check_integrity", stdout=StringIO())
    librarian = User.objects.get(username="suixian")
    client.force_login(librarian)
    response = client.get("/reports/demand/", {"period": "2026"})
    queries = next(t for t in response.context["tables"] if t.key == "demand-queries")
    assert "三体" in [row[0] for row in queries.rows]
