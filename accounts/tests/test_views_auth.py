import pytest
from django.urls import reverse


def test_anonymous_users_are_redirected_to_login(client, db):
    for name in ("circulation:home", "collections:site-list", "collections:item-list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_login_page_renders_in_chinese_with_a_language_switcher(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html
    assert 'action="/i18n/setlang/"' in html
    assert "English" in html


def test_a_librarian_logs_in_through_the_form_and_lands_on_the_dashboard(client, sui_librarian):
    response = client.post(
        reverse("accounts:login"),
        {"username": "suixian", "password": "correct-horse-battery"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("circulation:home")
    assert "随县图书馆" in response.content.decode()


def test_a_wrong_password_shows_an_error(client, sui_librarian):
    response = client.post(reverse("accounts:login"), {"username": "suixian", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_logout_is_a_post_and_ends_the_session(client_for, sui_librarian):
    client = client_for(sui_librarian)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("circulation:home")).status_code == 302


def test_password_change_enforces_the_validators(client_for, sui_librarian):
    client = client_for(sui_librarian)
    url = reverse("accounts:password-change")
    assert client.get(url).status_code == 200
    weak = {
        "old_password": "correct-horse-battery",
        "new_password1": "12345678",
        "new_password2": "12345678",
    }
    response = client.post(url, weak)
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


def test_password_change_succeeds_with_a_good_password(client_for, sui_librarian):
    client = client_for(sui_librarian)
    new = "shennong-bulu-2021"
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": "correct-horse-battery", "new_password1": new, "new_password2": new},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password-change-done")
    sui_librarian.refresh_from_db()
    assert sui_librarian.check_password(new)


def test_the_language_switcher_switches_to_english(client_for, sui_librarian):
    client = client_for(sui_librarian)
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("collections:item-list")}
    )
    assert response.url == reverse("collections:item-list")
    assert '<html lang="en">' in client.get(response.url).content.decode()


DESK_WORK = ["借还", "读者", "逾期"]
EVERYONE = ["首页", "图书", "调拨", "批次验收", "站点", "统计报表"]


@pytest.mark.parametrize(
    ("actor", "desk_work"),
    [
        ("sui_librarian", True),
        ("xiaolin_volunteer", True),
        ("hubei_reviewer", False),
        ("nlc_lender", False),
    ],
)
def test_each_role_sees_its_navigation_but_not_the_admin(client_for, request, actor, desk_work):
    response = client_for(request.getfixturevalue(actor)).get(reverse("circulation:home"))
    labels = {str(entry["label"]) for entry in response.context["nav_entries"]}
    assert set(EVERYONE) <= labels
    assert (set(DESK_WORK) <= labels) is desk_work
    assert not (set(DESK_WORK) & labels) or desk_work
    assert reverse("admin:index") not in response.content.decode()


def test_the_superuser_also_finds_the_admin(client_for, superuser):
    response = client_for(superuser).get(reverse("circulation:home"))
    assert reverse("admin:index") in [entry["url"] for entry in response.context["nav_entries"]]


def test_the_pages_read_in_english_after_switching(client_for, sui_librarian):
    client = client_for(sui_librarian)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("circulation:home")).content.decode()
    labels = [str(entry["label"]) for entry in client.get("/").context["nav_entries"]]
    assert "Home" in labels and "Desk" in labels
    assert "首页" not in labels
    assert "Sign out" in page or "Log out" in page
