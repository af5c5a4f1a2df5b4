"""A date input's value is ISO YYYY-MM-DD in every language. Django formats a DateInput with the
language's first input format (2026/11/30 in Chinese), which Chromium drops from
<input type="date">; a required date field then blocks its form."""

import importlib
import pkgutil
from datetime import date

import django_filters
import pytest
from django import forms
from django.utils import translation

APPS = ["accounts", "circulation", "collections_app", "reports", "jobs", "sharedloan"]


def _project_modules():
    for app in APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".tests" in info.name or ".migrations" in info.name or ".management" in info.name:
                continue
            if ".demo" in info.name:
                continue
            importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def date_fields():
    """Every date field of every form and filter set the project defines."""
    _project_modules()
    found = []
    for form in set(_subclasses(forms.BaseForm)):
        if form.__module__.split(".")[0] not in APPS:
            continue
        for name, field in getattr(form, "base_fields", {}).items():
            if isinstance(field, forms.DateField):
                found.append((f"{form.__module__}.{form.__qualname__}.{name}", field))
    for filterset in set(_subclasses(django_filters.FilterSet)):
        if filterset.__module__.split(".")[0] not in APPS:
            continue
        for name, filter_ in filterset.base_filters.items():
            if issubclass(filter_.field_class, forms.DateField):
                found.append(
                    (f"{filterset.__module__}.{filterset.__qualname__}.{name}", filter_.field)
                )
    return sorted(found, key=lambda pair: pair[0])


FIELDS = date_fields()


def test_the_search_finds_the_date_fields_we_know():
    names = {name.rsplit(".", 2)[-2] + "." + name.rsplit(".", 1)[-1] for name, _ in FIELDS}
    assert {
        "DisplayForm.starts_on",
        "DisplayForm.ends_on",
        "ClosedDaysForm.first",
        "AnnounceForm.agreement_date",
        "ReportFilter.start",
    } <= names


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("name", "field"), FIELDS, ids=[name for name, _ in FIELDS])
def test_every_date_input_renders_its_value_in_iso_form(name, field, language):
    with translation.override(language):
        html = field.widget.render("day", date(2026, 11, 30))
        assert 'value="2026-11-30"' in html, f"{name} in {language}: {html}"
        assert field.clean("2026-11-30") == date(2026, 11, 30)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_new_display_page_offers_today_as_an_iso_date(client_for, sui_librarian, language):
    from django.utils import timezone

    client = client_for(sui_librarian)
    client.cookies["django_language"] = language
    response = client.get("/collections/displays/new/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert f'value="{today}"' in response.content.decode()
