import pytest
from django.urls import reverse

from collections_app.models import Display, Item


def site_url(site):
    return reverse("collections:site-detail", args=[site.library.code, site.code])


@pytest.mark.parametrize(
    "actor", ["sui_librarian", "xiaolin_volunteer", "hubei_reviewer", "nlc_lender", "superuser"]
)
def test_the_site_list_renders_for_every_role(client_for, request, actor, sui_item, xiaolin_item):
    response = client_for(request.getfixturevalue(actor)).get(reverse("collections:site-list"))
    assert response.status_code == 200
    assert "小林一中" in response.content.decode()


def test_a_county_librarian_lists_only_their_own_sites(
    client_for, sui_librarian, sui_central, xiaolin_site, zengdu_central
):
    response = client_for(sui_librarian).get(reverse("collections:site-list"))
    names = [site.name for site in response.context["page"]]
    assert names == ["随县图书馆总馆", "厉山分馆", "小林一中"]


def test_the_site_list_counts_items_held_against_capacity(
    client_for, sui_librarian, sui_central, sui_item
):
    sui_central.capacity = 4
    sui_central.save()
    response = client_for(sui_librarian).get(reverse("collections:site-list"))
    central = response.context["page"][0]
    assert (central.held, central.fill) == (1, 25)


def test_the_volunteer_lists_only_their_site(client_for, xiaolin_volunteer, sui_central):
    response = client_for(xiaolin_volunteer).get(reverse("collections:site-list"))
    assert [site.code for site in response.context["page"]] == ["xiaolin"]


def test_the_provincial_reviewer_lists_sites_of_both_counties(
    client_for, hubei_reviewer, sui_central, zengdu_central
):
    response = client_for(hubei_reviewer).get(reverse("collections:site-list"))
    assert {site.library.code for site in response.context["page"]} == {"SUIXIAN", "ZENGDU"}


def test_the_site_page_shows_items_by_status_and_displays(
    client_for, sui_librarian, sui_central, sui_item
):
    Display.objects.create(
        library=sui_central.library, site=sui_central, name="国图文献专架", starts_on="2024-01-01"
    )
    response = client_for(sui_librarian).get(site_url(sui_central))
    assert response.status_code == 200
    counts = {row["status"]: row["count"] for row in response.context["statuses"]}
    assert counts[Item.Status.AVAILABLE] == 1
    assert response.context["total"] == 1
    assert "国图文献专架" in response.content.decode()


def test_a_site_of_another_county_answers_404(client_for, sui_librarian, zengdu_central):
    assert client_for(sui_librarian).get(site_url(zengdu_central)).status_code == 404


def test_the_volunteer_gets_404_for_the_central_library(
    client_for, xiaolin_volunteer, xiaolin_site, sui_central
):
    client = client_for(xiaolin_volunteer)
    assert client.get(site_url(xiaolin_site)).status_code == 200
    assert client.get(site_url(sui_central)).status_code == 404


def test_an_unknown_site_answers_404(client_for, sui_librarian, sui_central):
    url = reverse("collections:site-detail", args=["SUIXIAN", "nowhere"])
    assert client_for(sui_librarian).get(url).status_code == 404
