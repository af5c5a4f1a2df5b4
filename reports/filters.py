"""The report filters (django-filter): a period, a time grain, the dimensions to cross and
what to restrict to. Choices of libraries, sites and consignments come from the user's scope.
The filter set validates; the engine (reports/engine/) counts."""

from datetime import timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import scoped, visible_library_ids
from circulation.models import Patron
from collections_app.filters import SiteChoiceField, clc_top_choices
from collections_app.models import Consignment, Library, Site
from collections_app.selectors import sites_for
from reports.engine.dimensions import DIMENSIONS, TIMES, Params
from reports.models import AgeBand, LoanMonth
from reports.periods import parse_period

ANY = gettext_lazy("全部")
CROSS_DIMENSIONS = [
    (name, dim.label) for name, dim in DIMENSIONS.items() if name not in ("display", "library")
]
CROSS_DIMENSIONS.insert(0, ("library", DIMENSIONS["library"].label))


def _noop(queryset, name, value):
    return queryset


class ReportFilter(django_filters.FilterSet):
    period = django_filters.CharFilter(
        label=gettext_lazy("期间"),
        method=_noop,
        help_text=gettext_lazy("2026-06、2026-Q2 或 2026；或填写下面的起止日期"),
    )
    start = django_filters.DateFilter(
        label=gettext_lazy("开始日期"),
        method=_noop,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    end = django_filters.DateFilter(
        label=gettext_lazy("结束日期（含）"),
        method=_noop,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    grain = django_filters.ChoiceFilter(
        label=gettext_lazy("时间粒度"), choices=list(TIMES.items()), method=_noop, empty_label=None
    )
    rows = django_filters.ChoiceFilter(
        label=gettext_lazy("行"), choices=CROSS_DIMENSIONS, method=_noop, empty_label=None
    )
    cols = django_filters.ChoiceFilter(
        label=gettext_lazy("列（交叉）"),
        choices=CROSS_DIMENSIONS,
        method=_noop,
        empty_label=gettext_lazy("不交叉"),
    )
    library = django_filters.ModelChoiceFilter(
        label=gettext_lazy("图书馆"), queryset=Library.objects.none(), method=_noop, empty_label=ANY
    )
    site = django_filters.ModelChoiceFilter(
        label=gettext_lazy("站点"), queryset=Site.objects.none(), method=_noop, empty_label=ANY
    )
    site_kind = django_filters.ChoiceFilter(
        label=gettext_lazy("站点类型"), choices=Site.Kind.choices, method=_noop, empty_label=ANY
    )
    consignment = django_filters.ModelChoiceFilter(
        label=gettext_lazy("批次"),
        queryset=Consignment.objects.none(),
        method=_noop,
        empty_label=ANY,
    )
    clc_top = django_filters.ChoiceFilter(
        label=gettext_lazy("中图法大类"), choices=[], method=_noop, empty_label=ANY
    )
    category = django_filters.ChoiceFilter(
        label=gettext_lazy("读者类型"),
        choices=Patron.Category.choices,
        method=_noop,
        empty_label=ANY,
    )
    age_band = django_filters.ChoiceFilter(
        label=gettext_lazy("年龄段"), choices=AgeBand.choices, method=_noop, empty_label=ANY
    )
    idle_days = django_filters.NumberFilter(
        label=gettext_lazy("闲置天数"), method=_noop, min_value=1, max_value=3650
    )

    def __init__(self, data=None, *args, request=None, fields=(), **kwargs):
        super().__init__(data, *args, queryset=LoanMonth.objects.none(), request=request, **kwargs)
        user = request.user
        form = self.form
        for name in list(form.fields):
            if fields and name not in fields:
                del form.fields[name]
        if "library" in form.fields:
            libraries = Library.objects.filter(kind=Library.Kind.COUNTY)
            visible = visible_library_ids(user)
            if visible is not None:
                libraries = libraries.filter(pk__in=visible)
            if libraries.count() <= 1:
                del form.fields["library"]
            else:
                form.fields["library"].queryset = libraries.order_by("code")
        if "site" in form.fields:
            sites = sites_for(user)
            form.fields["site"] = SiteChoiceField(
                queryset=sites, required=False, label=_("站点"), empty_label=ANY
            )
            form.fields["site"].with_library = len({s.library_id for s in sites}) > 1
        if "consignment" in form.fields:
            form.fields["consignment"].queryset = scoped(
                Consignment.objects.select_related("library"), user
            )
        if "clc_top" in form.fields:
            form.fields["clc_top"].choices = [("", ANY), *clc_top_choices()]

    def params(self, *, default_period="month", today=None) -> Params:
        """The validated request as engine parameters; call after is_valid()."""
        data = self.form.cleaned_data
        today = today or timezone.localdate()
        period = data.get("period")
        start, end = data.get("start"), data.get("end")
        if start or end:
            start = start or (end.replace(day=1) if end else today.replace(day=1))
            end = (end or today) + timedelta(days=1)
        else:
            text = period or (
                f"{today.year}-{today.month:02d}" if default_period == "month" else str(today.year)
            )
            chosen = parse_period(text)
            start, end = chosen.start, chosen.end
            self.default_period_text = text
        days = (end - start).days
        grain = data.get("grain") or ("day" if days <= 62 else "month")
        filters = {}
        for name in ("library", "site", "consignment"):
            if data.get(name):
                filters[name] = data[name].pk
        for name in ("site_kind", "clc_top", "category", "age_band"):
            if data.get(name):
                filters[name] = data[name]
        return Params(
            start=start,
            end=end,
            grain=grain,
            rows=data.get("rows") or "clc_top",
            cols=data.get("cols") or "",
            filters=filters,
            idle_days=int(data.get("idle_days") or 90),
        )

    def show(self, params: Params) -> None:
        """Bind the form to what the page shows: a grain, rows or period left unset read as the
        defaults the report used, not as the first choice of each list."""
        data = self.form.data.copy()
        fields = self.form.fields
        if "grain" in fields:
            data["grain"] = params.grain
        if "rows" in fields:
            data["rows"] = params.rows
        if "period" in fields and getattr(self, "default_period_text", ""):
            data["period"] = self.default_period_text
        self.form.data = data


def validate(filterset) -> list[str]:
    """Errors of the form and of the period, as sentences."""
    errors = []
    if not filterset.is_valid():
        for name, messages in filterset.form.errors.items():
            label = filterset.form.fields[name].label if name in filterset.form.fields else ""
            errors += [f"{label}：{message}" if label else message for message in messages]
        return errors
    data = filterset.form.cleaned_data
    if data.get("period"):
        try:
            parse_period(data["period"])
        except ValueError as error:
            errors.append(str(error))
    start, end = data.get("start"), data.get("end")
    if start and end and end < start:
        errors.append(_("结束日期不能早于开始日期。"))
    if start and end and (end - start).days > 366 * 5:
        errors.append(_("时间范围不能超过五年。"))
    if data.get("grain") == "day" and start and end and (end - start).days > 366:
        errors.append(_("按日统计时时间范围不能超过一年。"))
    return errors
