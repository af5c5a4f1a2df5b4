"""Each user is offered only what they may do: the consignment import form answers the
product's 403 page to a volunteer (it used to show the form, then refuse the upload), its
link is hidden from them, and no link any role is shown leads to a refusal."""

import re

import pytest

from collections_app.models import Consignment

pytestmark = pytest.mark.django_db


def test_a_volunteer_gets_the_products_403_for_the_import_form_and_no_link_to_it(
    client_for, xiaolin_volunteer, sui_consignment
):
    Consignment.objects.filter(pk=sui_consignment.pk).update(status=Consignment.Status.RECEIVING)
    client = client_for(xiaolin_volunteer)
    response = client.get(f"/collections/consignments/{sui_consignment.pk}/import/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "没有权限" in html and "Forbidden" not in html
    detail = client.get(f"/collections/consignments/{sui_consignment.pk}/").content.decode()
    assert f"/collections/consignments/{sui_consignment.pk}/import/" not in detail


def test_the_librarian_gets_the_import_form_and_its_link(
    client_for, sui_librarian, sui_consignment
):
    Consignment.objects.filter(pk=sui_consignment.pk).update(status=Consignment.Status.RECEIVING)
    client = client_for(sui_librarian)
    assert client.get(f"/collections/consignments/{sui_consignment.pk}/import/").status_code == 200
    detail = client.get(f"/collections/consignments/{sui_consignment.pk}/").content.decode()
    assert f"/collections/consignments/{sui_consignment.pk}/import/" in detail


SKIP = re.compile(r"^/(accounts/logout|static/|media/|admin/|api/)|\.(pdf|csv|xlsx)$|export")


@pytest.mark.parametrize(
    "actor", ["xiaolin_volunteer", "hubei_reviewer", "nlc_lender", "sui_librarian"]
)
def test_no_link_shown_to_a_user_leads_to_a_refusal(
    client_for, request, actor, sui_consignment, xiaolin_item, sui_item
):
    client = client_for(request.getfixturevalue(actor))
    start = ["/", f"/collections/consignments/{sui_consignment.pk}/"]
    seen, queue, refused = set(start), list(start), []
    while queue and len(seen) < 150:
        url = queue.pop(0)
        response = client.get(url)
        if response.status_code == 403:
            refused.append(url)
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for link in re.findall(r'href="(/[^"#]*)"', response.content.decode()):
            link = link.replace("&amp;", "&")
            if link not in seen and not SKIP.search(link):
                seen.add(link)
                queue.append(link)
    assert refused == [], refused
