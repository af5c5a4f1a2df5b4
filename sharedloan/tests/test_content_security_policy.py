"""Content-Security-Policy on every page, the admin and the API's docs included: scripts and
styles only from our own files or carrying the page's nonce, never 'unsafe-inline'. The browser
side (no violation reported by any page) is checked by every browser test's `browser_page`."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

HEADER = "Content-Security-Policy"
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style\b([^>]*)>", re.IGNORECASE)
# Templates WeasyPrint turns into PDFs: never served to a browser, their styles are their own.
PDF_TEMPLATES = re.compile(r"_pdf(_style)?\.html$")


def directives(response):
    assert HEADER in response, f"{response.wsgi_request.path} has no {HEADER}"
    policy = response[HEADER]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def assert_page_keeps_the_policy(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    html = response.content.decode()
    path = response.wsgi_request.get_full_path()
    assert not INLINE_HANDLER.findall(html), f"{path}: inline event handler"
    assert not STYLE_ATTRIBUTE.findall(html), f"{path}: style attribute"
    nonces = {value.strip("'")[len("nonce-") :] for value in policy["script-src"]}
    for tag, pattern in (("script", SCRIPT_TAG), ("style", STYLE_TAG)):
        for attributes in pattern.findall(html):
            if tag == "script" and ("src=" in attributes or "application/json" in attributes):
                continue
            nonce = re.search(r'nonce="([^"]+)"', attributes)
            assert nonce and nonce.group(1) in nonces, f"{path}: inline <{tag}> without nonce"


def pages_of(client):
    """Every page the navigation offers, as the user sees it."""
    home = client.get(reverse("circulation:home"))
    return [home] + [client.get(entry["url"], follow=True) for entry in home.context["nav_entries"]]


@pytest.mark.parametrize(
    "actor", ["sui_librarian", "xiaolin_volunteer", "hubei_reviewer", "nlc_lender", "superuser"]
)
def test_every_page_of_the_navigation_carries_the_policy(
    client_for, request, actor, sui_item, xiaolin_item, zengdu_item
):
    client = client_for(request.getfixturevalue(actor))
    for response in pages_of(client):
        assert response.status_code == 200, response.wsgi_request.path
        assert_page_keeps_the_policy(response)


@pytest.mark.django_db
def test_the_login_and_error_pages_carry_the_policy(client):
    assert_page_keeps_the_policy(client.get(reverse("accounts:login")))
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert_page_keeps_the_policy(missing)


def test_every_admin_list_and_form_carries_the_policy(client_for, superuser, sui_item):
    client = client_for(superuser)
    assert_page_keeps_the_policy(client.get(reverse("admin:index")))
    for model in admin.site._registry:
        meta = model._meta
        for view, args in (("changelist", ()), ("add", ())):
            try:
                url = reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)
            except NoReverseMatch:
                continue
            response = client.get(url)
            if response.status_code == 403:  # no adding where the services create the rows
                continue
            assert response.status_code == 200, url
            assert_page_keeps_the_policy(response)
    for view in ("change", "history"):
        url = reverse(f"admin:collections_app_item_{view}", args=[sui_item.pk])
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_keeps_the_policy(response)


@pytest.mark.django_db
def test_the_api_docs_run_their_script_by_nonce(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert_page_keeps_the_policy(response)
    assert re.search(r'<script nonce="[^"]+">', response.content.decode())


def test_no_template_has_an_inline_handler_or_style_attribute():
    faults = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        if PDF_TEMPLATES.search(path.name) or path.name == "labels_pdf.html":
            continue
        text = path.read_text()
        if INLINE_HANDLER.search(text) or STYLE_ATTRIBUTE.search(text):
            faults.append(str(path.relative_to(settings.BASE_DIR)))
        for attributes in SCRIPT_TAG.findall(text) + STYLE_TAG.findall(text):
            if "src=" not in attributes and "nonce=" not in attributes and "json" not in attributes:
                faults.append(f"{path.relative_to(settings.BASE_DIR)}: inline script or style")
    assert faults == []
