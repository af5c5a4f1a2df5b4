"""Forms validate what was typed; the services decide and write."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.submissions import SubmissionKeyField
from circulation.models import LoanRule, Patron
from collections_app.barcodes import normalise_barcode
from collections_app.models import Site


class PatronForm(forms.ModelForm):
    submission = SubmissionKeyField()

    class Meta:
        model = Patron
        fields = ["card_number", "name", "category", "home_site", "phone", "birth_year"]
        widgets = {
            "card_number": forms.TextInput(attrs={"autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "birth_year": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }
        help_texts = {
            "phone": _("选填，仅用于催还和预约到书通知。"),
            "birth_year": _("选填，仅用于按年龄段统计。"),
        }

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_site"].queryset = sites
        self.fields["card_number"].widget.attrs["maxlength"] = 32

    def clean_card_number(self):
        # A card is scanned like a barcode: the same cleaning as at the desk.
        value = normalise_barcode(self.cleaned_data["card_number"])
        if not value:
            raise forms.ValidationError(_("请填写读者证号。"))
        return value

    def clean_birth_year(self):
        year = self.cleaned_data.get("birth_year")
        if year is not None and not 1900 <= year <= timezone.localdate().year:
            raise forms.ValidationError(_("出生年份不合理。"))
        return year

    def validate_unique(self):
        # The service says when a card number is taken, with the same words everywhere.
        pass


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("暂停原因"), max_length=200)


class PatronSearchForm(forms.Form):
    q = forms.CharField(label=_("读者证号、姓名或电话"), max_length=50, required=False, strip=True)


class HoldForm(forms.Form):
    code = forms.CharField(
        label=_("图书条码或 ISBN"),
        max_length=64,
        help_text=_("扫描任意一册的条码，或输入 ISBN。"),
    )
    pickup_site = forms.ModelChoiceField(label=_("取书站点"), queryset=Site.objects.none())

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pickup_site"].queryset = sites


class ImportForm(forms.Form):
    file = forms.FileField(label=_("读者名单（CSV 或 XLSX）"))


class LoanRuleForm(forms.ModelForm):
    class Meta:
        model = LoanRule
        fields = [
            "category",
            "site_kind",
            "loan_days",
            "max_items",
            "max_renewals",
            "holds_allowed",
            "blocks_when_overdue",
            "hold_pickup_days",
        ]

    def clean_loan_days(self):
        days = self.cleaned_data["loan_days"]
        if not 1 <= days <= 365:
            raise forms.ValidationError(_("借期应在 1 到 365 天之间。"))
        return days


class ClosedDaysForm(forms.Form):
    site = forms.ModelChoiceField(
        label=_("站点"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("全馆所有站点"),
    )
    first = forms.DateField(
        label=_("从"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    last = forms.DateField(
        label=_("到"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("只闭馆一天时留空。"),
    )
    reason = forms.CharField(label=_("原因"), max_length=100, required=False)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites

    def clean(self):
        data = super().clean()
        first, last = data.get("first"), data.get("last") or data.get("first")
        if first and last:
            if last < first:
                raise forms.ValidationError(_("结束日期不能早于开始日期。"))
            if last - first > timedelta(days=366):
                raise forms.ValidationError(_("一次最多登记一年的闭馆日。"))
            data["last"] = last
        return data
