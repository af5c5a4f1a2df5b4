"""Who may call what, for every route under /api/v1/ as the URL resolver lists it, so that a new
endpoint joins the matrix by itself: anonymous → 401/403; another county's object → 404, for
every method; a read-only role (the province, the NLC) writing → 403.

Detail routes are filled with an object of 曾都区 that 曾都区's own librarian can read (checked
here, so that a 404 means scope and not a wrong address). A route whose object the fixture does
not provide fails with the name of the view: add such an object to `other_county`."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from accounts.models import User
from circulation.models import Hold, Patron
from collections_app.models import Box, Consignment, Item, Site
from jobs.models import Job
from reports.periods import parse_period
from reports.services import period_report_prepare, period_report_submit
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401

WRITES = ("post", "put", "patch", "delete")


def api_routes():
    """(url name, view class, {method: action}, path keyword names) of every /api/v1/ route,
    without the format-suffix duplicates."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern

    routes = []
    for route, pattern in walk(get_resolver().url_patterns):
        keywords = set(pattern.pattern.regex.groupindex)
        if not route.startswith("api/v1/") or "format" in keywords:
            continue
        if pattern.name == "api-not-found":  # any other address: 404 for everyone
            continue
        view = getattr(pattern.callback, "cls", None)
        # A copy: DRF adds "head" to a view's own mapping when it first answers.
        actions = dict(getattr(pattern.callback, "actions", None) or {"get": None})
        actions.pop("head", None)
        routes.append((pattern.name, view, actions, pattern.callback.initkwargs, keywords))
    return routes


ROUTES = api_routes()


@pytest.fixture
def other_county(db):
    """The demo at a small scale, with what it lacks for 曾都区: a box, a hold, period reports,
    a job."""
    call_command("seed_demo", "--scale", "0.01", "--today", "2026-06-30", verbosity=0)
    zengdu = User.objects.get(username="zengdu")
    central = Site.objects.get(library=zengdu.library, code="central")
    Box.objects.create(library=zengdu.library, code="ZDBOX1", name="曾都流动书箱")
    patron = Patron.objects.filter(library=zengdu.library).first()
    item = Item.objects.filter(library=zengdu.library).first()
    Hold.objects.create(
        library=zengdu.library,
        patron=patron,
        title=item.title,
        pickup_site=central,
        expires_at=timezone.now() + timedelta(days=30),
    )
    report = period_report_prepare(
        user=zengdu,
        library=zengdu.library,
        consignment=Consignment.objects.filter(library=zengdu.library).first(),
        period=parse_period("2025-12"),
    )
    period_report_submit(user=zengdu, report=report, narrative="")
    Job.objects.create(kind=Job.Kind.values[0], library=zengdu.library, created_by=zengdu)
    return zengdu


# Views without a queryset (a plain ViewSet) say here how to address an object of `owner`.
WITHOUT_QUERYSET = {
    "job-detail": lambda owner: {"pk": Job.objects.filter(created_by=owner).first().pk},
}


def lookup_kwargs(name, view, actions, initkwargs, keywords, owner):
    """The path keywords that address an object `owner` (曾都区's librarian) can read."""
    if not keywords:
        return {}
    if name in WITHOUT_QUERYSET:
        return WITHOUT_QUERYSET[name](owner)
    assert hasattr(view, "get_queryset"), f"{name}: say how to address it in WITHOUT_QUERYSET"
    instance = view(**initkwargs)
    request = Request(APIRequestFactory().get("/"))
    request.user = owner
    instance.request, instance.args, instance.kwargs = request, (), {}
    instance.action = next(iter(actions.values()))
    instance.format_kwarg = None
    found = instance.get_queryset().first()
    assert found is not None, f"{name}: add an object of 曾都区 to the other_county fixture"
    field = instance.lookup_field
    value = found.pk if field == "pk" else getattr(found, field, None)
    if value is None:  # an address made of several fields, e.g. a site's LIBRARY.code
        value = instance.get_serializer(found).data[field]
    (keyword,) = keywords
    kwargs = {keyword: value}
    return kwargs


def addresses(owner):
    for name, view, actions, initkwargs, keywords in ROUTES:
        kwargs = lookup_kwargs(name, view, actions, initkwargs, keywords, owner)
        yield name, actions, bool(keywords), reverse(name, kwargs=kwargs)


def test_the_matrix_covers_every_endpoint():
    names = {route[0] for route in ROUTES}
    assert {"item-detail", "circulation-checkout", "transfer-dispatch"} <= names
    assert len(names) > 30


def test_an_anonymous_caller_gets_401_or_403_everywhere(other_county):
    client = APIClient()
    for name, actions, _detail, url in addresses(other_county):
        for method in actions:
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code in (401, 403), (method, name, url)
            assert response.json()["code"] == "not_authenticated"


def test_another_countys_object_is_404_for_every_method(other_county):
    owner, stranger = APIClient(), APIClient()
    owner.force_authenticate(other_county)
    stranger.force_authenticate(User.objects.get(username="suixian"))
    checked = 0
    for name, actions, is_detail, url in addresses(other_county):
        if not is_detail:
            continue
        if "get" in actions:
            assert owner.get(url).status_code < 300, (name, url)
        for method in actions:
            response = getattr(stranger, method)(url, {}, format="json")
            assert response.status_code == 404, (method, name, url, response.content[:200])
            assert response.json()["code"] == "not_found", (method, name, url)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize("username", ["hubei", "nlc"])
def test_a_read_only_role_writing_is_403_everywhere(other_county, username):
    client = APIClient()
    client.force_authenticate(User.objects.get(username=username))
    writes = 0
    for name, actions, _detail, url in addresses(other_county):
        for method in actions:
            if method not in WRITES:
                continue
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 403, (method, name, url, response.content[:200])
            assert response.json()["code"] == "permission_denied"
            writes += 1
    assert writes > 15
