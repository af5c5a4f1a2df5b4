from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from circulation.models import Loan, Patron
from collections_app.models import Transfer, TransferLine


def home(client):
    response = client.get(reverse("circulation:home"))
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("actor", "kind", "heading"),
    [
        ("sui_librarian", "local", "随县图书馆 · 概览"),
        ("xiaolin_volunteer", "local", "小林一中 · 概览"),
        ("hubei_reviewer", "province", "湖北省图书馆 · 全省概览"),
        ("nlc_lender", "lender", "国家图书馆 · 出借概览"),
        ("superuser", "lender", "全平台概览"),
    ],
)
def test_the_dashboard_renders_for_each_role(
    client_for, request, actor, kind, heading, sui_item, xiaolin_item, zengdu_item
):
    response = home(client_for(request.getfixturevalue(actor)))
    assert response.context["kind"] == kind
    html = response.content.decode()
    assert heading in html
    assert 'id="loans-by-month"' in html and "chart.umd.min.js" in html


def test_the_librarian_sees_the_status_table_of_every_site(
    client_for, sui_librarian, sui_item, xiaolin_item
):
    html = home(client_for(sui_librarian)).content.decode()
    assert "各站点图书状态" in html
    for name in ("随县图书馆总馆", "厉山分馆", "小林一中"):
        assert name in html
    assert "曾都区" not in html


def test_an_overdue_transfer_is_highlighted(client_for, sui_librarian, sui_item, xiaolin_site):
    sent = timezone.now() - timedelta(days=30)
    transfer = Transfer.objects.create(
        library=sui_item.library,
        source=sui_item.current_site,
        destination=xiaolin_site,
        reason=Transfer.Reason.ROTATION,
        status=Transfer.Status.DISPATCHED,
        created_at=sent,
        dispatched_at=sent,
    )
    TransferLine.objects.create(library=sui_item.library, transfer=transfer, item=sui_item)
    html = home(client_for(sui_librarian)).content.decode()
    assert 'class="is-overdue"' in html and "超过 7 天" in html


def test_the_provincial_reviewer_sees_both_counties(client_for, hubei_reviewer, suixian, zengdu):
    html = home(client_for(hubei_reviewer)).content.decode()
    assert "随县图书馆" in html and "曾都区图书馆" in html


def test_the_lender_sees_loan_figures_without_reader_names(
    client_for, nlc_lender, sui_item, sui_central
):
    patron = Patron.objects.create(
        library=sui_item.library,
        card_number="SX9",
        name="王读者",
        category=Patron.Category.ADULT,
        home_site=sui_central,
    )
    now = timezone.now()
    Loan.objects.create(
        library=sui_item.library,
        item=sui_item,
        patron=patron,
        site=sui_central,
        checked_out_at=now,
        due_at=now + timedelta(days=30),
    )
    response = home(client_for(nlc_lender))
    assert response.context["consignments"]["totals"]["loans"] == 1
    assert "王读者" not in response.content.decode()


def test_the_superuser_gets_a_link_to_the_admin(client_for, superuser):
    html = home(client_for(superuser)).content.decode()
    assert 'href="/admin/"' in html


def test_an_account_without_a_role_is_told_to_ask_for_one(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x-long-password-1")
    client.force_login(user)
    response = home(client)
    assert response.context["kind"] == "none"
    assert "尚未分配" in response.content.decode()
