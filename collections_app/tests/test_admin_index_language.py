"""The admin index reads in Chinese throughout: Django's screen-reader headings that its own
zh_Hans catalogue lacks come from the project's override, and the task queue's internal rows,
which have no Chinese, are left out (background work is followed through 后台任务)."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_index_has_no_english_strings_in_chinese(client_for, superuser):
    html = client_for(superuser).get("/admin/").content.decode()
    for english in ("Model name", "Add link", "Change or view list link", "Task Result", "Tasks"):
        assert english not in html
    assert "模型名称" in html and "后台任务" in html


def test_the_task_queues_rows_are_not_an_admin_page(client_for, superuser):
    assert client_for(superuser).get("/admin/django_tasks_database/").status_code == 404


def test_a_change_lists_search_icon_is_named_in_the_pages_language(client_for, superuser):
    client = client_for(superuser)
    html = client.get("/admin/collections_app/site/").content.decode()
    assert 'alt="搜索"' in html and 'alt="Search"' not in html
    client.cookies["django_language"] = "en"
    assert 'alt="Search"' in client.get("/admin/collections_app/site/").content.decode()


def test_the_many_to_many_chooser_speaks_chinese(client_for, superuser):
    """SelectFilter2.js's sentences, which Django 5.2's zh_Hans catalogue lacks, come from the
    project's catalogue (sharedloan/django_locale)."""
    script = client_for(superuser).get("/admin/jsi18n/").content.decode()
    for chinese in (
        "选中要添加的%s",
        "选中要移除的%s",
        "全选%s",
        "添加选中的%s",
        "移除全部%s",
        "（点击清除）",
    ):
        assert json.dumps(chinese)[1:-1] in script, chinese  # as the catalogue writes it
