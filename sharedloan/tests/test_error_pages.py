"""The product's own error pages, in its layout and the user's language."""

import logging

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from sharedloan.errors import ForbiddenInOneLine, server_error

LAYOUT = 'class="topbar"'


@pytest.mark.django_db
def test_an_unknown_address_gets_the_products_404_in_chinese(client):
    response = client.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert LAYOUT in page and "找不到这个页面" in page
    assert "URLconf" not in page


@pytest.mark.django_db
def test_the_404_is_in_english_when_english_was_chosen(client):
    client.cookies["django_language"] = "en"
    page = client.get("/no-such-page/").content.decode()
    assert "Page not found" in page and "找不到这个页面" not in page


def test_a_read_only_role_trying_a_write_gets_the_products_403(client_for, hubei_reviewer):
    response = client_for(hubei_reviewer).get(reverse("collections:transfer-new"))
    assert response.status_code == 403
    page = response.content.decode()
    assert LAYOUT in page and "没有权限" in page and "湖北省图书馆" in page


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_a_page_that_says_what_to_do():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


@pytest.mark.django_db
def test_a_request_for_another_host_gets_the_products_400(client):
    response = client.get("/", HTTP_HOST="evil.example.org")
    assert response.status_code == 400
    assert "请求有误" in response.content.decode()


def test_the_500_page_needs_nothing_but_its_template():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert LAYOUT in page and "系统出错了" in page


def test_a_403_is_logged_as_one_line_without_a_traceback():
    try:
        raise PermissionError("denied")
    except PermissionError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("/x/",), exc_info
    )
    record.status_code = 403
    assert ForbiddenInOneLine().filter(record) is True
    assert record.exc_info is None
    assert logging.Formatter().format(record) == "Forbidden: /x/"
