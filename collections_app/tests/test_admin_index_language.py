"""The admin index reads in Chinese throughout: Django's screen-reader headings that its own
zh_Hans catalogue lacks come from the project's override, and the task queue's internal rows,
which have no Chinese, are left out (background work is followed through 后台任务)."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_index_has_no_english_strings_in_chinese(client_for, superuser):
    html = client_for(superuser).get("/admin/").content.decode()
    for english in ("Model name", "Add link", "Change or view list link", "Task Result", "Tasks"):
        assert english not in html
    assert "模型名称" in html and "后台任务" in html


def test_the_task_queues_rows_are_not_an_admin_page(client_for, superuser):
    assert client_for(superuser).get("/admin/django_tasks_database/").status_code == 404
