"""Forms of the transfer, box, display and rotation pages. Choices always come from the scope."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.scope import can_work_at_site, scoped
from accounts.submissions import SubmissionKeyField
from collections_app.barcodes import BarcodeField, BarcodeListField
from collections_app.models import (
    Box,
    ClcClass,
    Consignment,
    Display,
    RotationPlan,
    RotationStop,
    Site,
    Transfer,
)


class SiteField(forms.ModelChoiceField):
    def label_from_instance(self, site):
        return _("%(name)s（%(kind)s）") % {"name": site.name, "kind": site.get_kind_display()}


def _library_sites(user, library):
    return scoped(Site.objects.filter(library=library, is_active=True), user).order_by(
        "kind", "code"
    )


class TransferCreateForm(forms.Form):
    source = SiteField(label=_("发出站点"), queryset=Site.objects.none())
    destination = SiteField(
        label=_("接收站点"),
        queryset=Site.objects.none(),
        required=False,
        help_text=_("归还国图时留空。"),
    )
    reason = forms.ChoiceField(label=_("原因"), choices=Transfer.Reason.choices)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)
    submission = SubmissionKeyField()

    def __init__(self, *args, user, library, **kwargs):
        super().__init__(*args, **kwargs)
        sites = Site.objects.filter(library=library, is_active=True).order_by("kind", "code")
        self.fields["source"].queryset = sites.filter(
            pk__in=[site.pk for site in sites if can_work_at_site(user, site)]
        )
        self.fields["destination"].queryset = sites

    def clean(self):
        data = super().clean()
        reason = data.get("reason")
        if reason and reason != Transfer.Reason.RETURN_TO_LENDER and not data.get("destination"):
            self.add_error("destination", _("请选择接收站点。"))
        if reason == Transfer.Reason.RETURN_TO_LENDER and data.get("destination"):
            self.add_error("destination", _("归还国图的调拨单没有接收站点。"))
        if data.get("source") and data.get("source") == data.get("destination"):
            self.add_error("destination", _("接收站点不能与发出站点相同。"))
        return data


class TransferFillForm(forms.Form):
    """ "Send 200 class I volumes from the central library": filters and a count."""

    count = forms.IntegerField(label=_("册数"), min_value=1, max_value=20000)
    clc_top = forms.ChoiceField(label=_("中图法大类"), required=False)
    consignment = forms.ModelChoiceField(
        label=_("批次"), queryset=Consignment.objects.none(), required=False, empty_label=_("全部")
    )
    idle_days = forms.IntegerField(
        label=_("闲置天数至少"), min_value=1, max_value=3650, required=False
    )
    on_display = forms.TypedChoiceField(
        label=_("专架"),
        required=False,
        choices=[("", _("不限")), ("no", _("不在专架上")), ("yes", _("在专架上"))],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
    )
    submission = SubmissionKeyField()

    def __init__(self, *args, user, library, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clc_top"].choices = [("", _("全部"))] + [
            (c.code, f"{c.code} {c.name}") for c in ClcClass.objects.filter(level=1)
        ]
        self.fields["consignment"].queryset = scoped(
            Consignment.objects.filter(library=library), user
        )

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "clc_top": data["clc_top"],
            "consignment": data["consignment"],
            "idle_days": data["idle_days"],
            "on_display": data["on_display"],
        }


class ScanForm(forms.Form):
    barcode = BarcodeField(label=_("条码"))
    damaged = forms.BooleanField(label=_("损坏"), required=False)


class DisplayForm(forms.ModelForm):
    site = SiteField(label=_("站点"), queryset=Site.objects.none())
    submission = SubmissionKeyField()

    class Meta:
        model = Display
        fields = ["site", "name", "kind", "starts_on", "ends_on"]
        widgets = {
            "starts_on": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            "ends_on": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        }

    def __init__(self, *args, user, library, **kwargs):
        super().__init__(*args, **kwargs)
        sites = Site.objects.filter(library=library, is_active=True).order_by("kind", "code")
        self.fields["site"].queryset = sites.filter(
            pk__in=[site.pk for site in sites if can_work_at_site(user, site)]
        )

    def clean(self):
        data = super().clean()
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("结束日期不能早于开始日期。"))
        return data


class BoxForm(forms.ModelForm):
    code = BarcodeField(label=_("书箱条码"))
    submission = SubmissionKeyField()

    class Meta:
        model = Box
        fields = ["code", "name"]

    def validate_unique(self):
        # The service says when a box code is taken, the same way for a page and a race.
        pass


class RotationAddForm(forms.Form):
    """Volumes or boxes pasted into a plan, one barcode a line."""

    barcodes = BarcodeListField(
        label=_("图书或书箱条码"), help_text=_("每行一个，可直接粘贴扫描结果。")
    )


class BoxSendForm(forms.Form):
    destination = SiteField(label=_("送往站点"), queryset=Site.objects.none())

    def __init__(self, *args, user, library, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = Site.objects.filter(
            library=library, is_active=True
        ).order_by("kind", "code")


class RotationPlanForm(forms.ModelForm):
    submission = SubmissionKeyField()

    class Meta:
        model = RotationPlan
        fields = ["name", "is_cyclical", "demand_loans", "is_active"]


class RotationStopForm(forms.ModelForm):
    site = SiteField(label=_("站点"), queryset=Site.objects.none())

    class Meta:
        model = RotationStop
        fields = ["site", "stay_days", "stay_loans", "capacity"]

    def _get_validation_exclusions(self):
        # rotation_plan_save says when a stop has no stay, numbered as the plan lists it; the
        # database constraint behind it would only add a second, technical message.
        exclude = super()._get_validation_exclusions()
        exclude.update({"stay_days", "stay_loans"})
        return exclude


def rotation_stop_formset(library, *args, **kwargs):
    formset_class = forms.inlineformset_factory(
        RotationPlan,
        RotationStop,
        form=RotationStopForm,
        extra=3,
        can_delete=True,
        fields=["site", "stay_days", "stay_loans", "capacity"],
    )
    formset = formset_class(*args, **kwargs)
    # New stops go to active sites; a stop already at a site closed since can still be kept.
    plan = kwargs.get("instance")
    in_plan = Q(pk__in=plan.stops.values("site")) if plan is not None and plan.pk else Q()
    sites = Site.objects.filter(library=library).filter(Q(is_active=True) | in_plan)
    for form in formset.forms:
        form.fields["site"].queryset = sites.order_by("kind", "code")
    return formset
