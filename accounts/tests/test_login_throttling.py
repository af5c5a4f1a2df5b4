"""Sign-in throttling: five wrong passwords for one username from one address lock that pair for
the cool-off; other librarians at the same desk address still sign in; a superuser unlocks."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.lockouts import client_address
from conftest import make_user

LOGIN = reverse("accounts:login")
DESK = "203.0.113.7"  # one public address shared by a county library's desks


def sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def fail_five_times(client, username="suixian"):
    return [sign_in(client, username, "wrong-password").status_code for _ in range(5)]


@pytest.fixture
def desk():
    return Client(REMOTE_ADDR=DESK)


def test_five_wrong_passwords_lock_the_account_with_a_message_on_the_login_page(
    desk, sui_librarian
):
    assert fail_five_times(desk) == [200, 200, 200, 200, 429]
    response = sign_in(desk, "suixian", "correct-horse-battery")
    assert response.status_code == 429
    html = response.content.decode()
    assert "密码连续输错 5 次" in html
    assert "暂停登录 15 分钟" in html
    assert 'action="/accounts/login/"' in html  # the product's own login page, not a bare 429
    assert '<html lang="zh-hans">' in html
    assert "_auth_user_id" not in desk.session


def test_four_wrong_passwords_then_the_right_one_signs_in(desk, sui_librarian):
    for _ in range(4):
        sign_in(desk, "suixian", "wrong-password")
    response = sign_in(desk, "suixian", "correct-horse-battery")
    assert response.status_code == 302
    assert response.url == reverse("circulation:home")


def test_another_username_at_the_same_address_is_not_locked(desk, sui_librarian, suixian):
    make_user("suixian2", suixian, sui_librarian.role)
    fail_five_times(desk)
    response = sign_in(desk, "suixian2", "correct-horse-battery")
    assert response.status_code == 302


def test_the_same_username_from_another_address_is_not_locked(desk, sui_librarian):
    fail_five_times(desk)
    response = sign_in(Client(REMOTE_ADDR="198.51.100.20"), "suixian", "correct-horse-battery")
    assert response.status_code == 302


def test_the_lockout_ends_after_the_cool_off(desk, sui_librarian, time_machine):
    time_machine.move_to("2026-11-30 09:00:00+08:00", tick=False)
    fail_five_times(desk)
    time_machine.move_to("2026-11-30 09:16:00+08:00", tick=False)
    assert sign_in(desk, "suixian", "correct-horse-battery").status_code == 302


def test_a_superuser_unlocks_the_account_in_the_admin(desk, sui_librarian, superuser, client):
    fail_five_times(desk)
    attempt = AccessAttempt.objects.get(username="suixian")
    client.force_login(superuser)
    changelist = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200
    assert "suixian" in changelist.content.decode()
    response = client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert sign_in(desk, "suixian", "correct-horse-battery").status_code == 302


def test_a_superuser_unlocks_the_account_from_the_command_line(desk, sui_librarian):
    fail_five_times(desk)
    call_command("axes_reset_username", "suixian")
    assert sign_in(desk, "suixian", "correct-horse-battery").status_code == 302


def test_a_librarian_cannot_reach_the_lockout_list(client_for, sui_librarian):
    response = client_for(sui_librarian).get(reverse("admin:axes_accessattempt_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_the_lockout_list_reads_in_chinese(client_for, superuser):
    html = client_for(superuser).get(reverse("admin:axes_accessattempt_changelist")).content
    html = html.decode()
    assert "登录失败记录" in html
    assert "Access attempts" not in html


def test_force_login_is_not_counted_or_refused(client_for, sui_librarian):
    client = client_for(sui_librarian)
    assert client.get(reverse("circulation:home")).status_code == 200
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "127.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a client cannot choose its address
        (2, "203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "", "127.0.0.1"),
    ],
)
def test_the_address_behind_a_reverse_proxy(rf, settings, proxies, forwarded, expected):
    settings.SHAREDLOAN_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
