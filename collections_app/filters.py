"""The item list's filters. Choices of sites and consignments come from the user's scope."""

import django_filters
from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import ValidationError as StdnumError

from accounts.scope import scoped, visible_library_ids
from collections_app.barcodes import normalise_barcode
from collections_app.models import ClcClass, Consignment, Item
from collections_app.selectors import sites_for

ANY = _("全部")


class IsbnField(forms.CharField):
    """An ISBN-10 or ISBN-13, with or without hyphens, cleaned to the 13 digits we store."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return stdnum_isbn.compact(stdnum_isbn.to_isbn13(stdnum_isbn.validate(value)))
        except StdnumError:
            raise forms.ValidationError(_("请输入有效的 10 位或 13 位 ISBN。")) from None


class SiteChoiceField(forms.ModelChoiceField):
    """Names the library too when the user sees sites of more than one library."""

    with_library = False

    def label_from_instance(self, site):
        return f"{site.library.name} · {site.name}" if self.with_library else site.name


class IsbnFilter(django_filters.CharFilter):
    field_class = IsbnField


class SiteFilter(django_filters.ModelChoiceFilter):
    field_class = SiteChoiceField


def clc_top_choices():
    english = (get_language() or "").startswith("en")
    return [
        (c.code, f"{c.code} {c.name_en if english and c.name_en else c.name_zh}")
        for c in ClcClass.objects.filter(level=1).order_by("code")
    ]


def _sites(request):
    return sites_for(request.user)


def _consignments(request):
    return scoped(Consignment.objects.select_related("library"), request.user)


class ItemFilter(django_filters.FilterSet):
    barcode = django_filters.CharFilter(label=_("条码号"), method="filter_barcode")
    isbn = IsbnFilter(label=_("ISBN"), field_name="title__isbn")
    title = django_filters.CharFilter(
        label=_("题名"), field_name="title__title", lookup_expr="icontains"
    )
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=Item.Status.choices, empty_label=ANY
    )
    site = SiteFilter(
        label=_("当前站点"), field_name="current_site", queryset=_sites, empty_label=ANY
    )
    clc = django_filters.ChoiceFilter(
        label=_("中图法大类"), field_name="title__clc_top", choices=clc_top_choices, empty_label=ANY
    )
    consignment = django_filters.ModelChoiceFilter(
        label=_("批次"), field_name="consignment", queryset=_consignments, empty_label=ANY
    )

    class Meta:
        model = Item
        fields = []

    def filter_barcode(self, queryset, name, value):
        # Typed or scanned into the search box: cleaned as at every other scan.
        return queryset.filter(barcode=normalise_barcode(value))

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        libraries = visible_library_ids(request.user)
        self.form.fields["site"].with_library = libraries is None or len(libraries) > 1
