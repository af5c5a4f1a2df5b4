"""The admin's history keeps the value a row had before its first fix, even when an import, a
bulk write or a service wrote the row without a history record."""

from django.urls import reverse

from collections_app.models import Item, Title
from collections_app.services.stock import item_mark
from collections_app.tests.test_admin import change_form_data


def test_the_first_fix_of_a_bulk_created_title_shows_the_old_and_the_new_title(
    client, superuser, suixian
):
    (title,) = Title.objects.bulk_create([Title(library=suixian, title="乡士中国")])
    assert not Title.history.filter(id=title.pk).exists()
    client.force_login(superuser)
    url = reverse("admin:collections_app_title_change", args=[title.pk])
    response = client.post(url, change_form_data(client, url, title="乡土中国"))
    assert response.status_code == 302
    assert list(
        Title.history.filter(id=title.pk).values_list("history_type", "title", "history_user")
    ) == [("~", "乡土中国", superuser.pk), ("+", "乡士中国", None)]
    page = client.get(reverse("admin:collections_app_title_history", args=[title.pk]))
    assert "题名：</strong>乡士中国&nbsp;&rarr;&nbsp;乡土中国" in page.content.decode()


def test_a_fix_after_a_service_changed_the_row_shows_only_what_the_fix_changed(
    client, superuser, sui_item
):
    item_mark(user=superuser, items=[sui_item], status="damaged", note="水渍")
    client.force_login(superuser)
    url = reverse("admin:collections_app_item_change", args=[sui_item.pk])
    client.post(url, change_form_data(client, url, call_number="C912.82/2"))
    fix, baseline, created = Item.history.filter(id=sui_item.pk)
    assert (created.status, baseline.status, fix.status) == ("available", "damaged", "damaged")
    delta = fix.diff_against(baseline)
    assert delta.changed_fields == ["call_number"]


def test_a_row_whose_history_is_current_gets_no_second_baseline(client, superuser, sui_item):
    client.force_login(superuser)
    url = reverse("admin:collections_app_item_change", args=[sui_item.pk])
    client.post(url, change_form_data(client, url, call_number="C912.82/2"))
    client.post(url, change_form_data(client, url, call_number="C912.82/3"))
    assert list(Item.history.filter(id=sui_item.pk).values_list("history_type", "call_number")) == [
        ("~", "C912.82/3"),
        ("~", "C912.82/2"),
        ("+", "C912.82/1"),
    ]


def test_the_history_reads_in_english_and_scrolls_inside_its_box_on_a_phone(
    client, superuser, suixian
):
    (title,) = Title.objects.bulk_create([Title(library=suixian, title="乡士中国")])
    client.force_login(superuser)
    client.cookies["django_language"] = "zh-hans"
    url = reverse("admin:collections_app_title_change", args=[title.pk])
    client.post(url, change_form_data(client, url, title="乡土中国"))
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:collections_app_title_history", args=[title.pk]))
    html = page.content.decode()
    assert "Record before any change" in html and "修改前的记录" not in html
    assert "<strong>Title:</strong>乡士中国" in html
    assert '<div class="table-scroll">\n<table id="change-history"' in html


def test_a_link_set_where_there_was_none_reads_from_a_dash(client, superuser, hubei):
    from collections_app.models import Library

    county = Library.objects.create(code="GUANGSHUI", name="广水市图书馆", kind="county")
    client.force_login(superuser)
    url = reverse("admin:collections_app_library_change", args=[county.pk])
    client.post(url, change_form_data(client, url, province=hubei.pk))
    page = client.get(reverse("admin:collections_app_library_history", args=[county.pk]))
    html = page.content.decode()
    assert f"—&nbsp;&rarr;&nbsp;{hubei}" in html
    assert "pk=None" not in html and "Deleted" not in html
