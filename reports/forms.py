from django import forms
from django.utils.translation import gettext_lazy as _

from reports.periods import parse_period
from reports.services import COMMENT_MAX_LENGTH, NARRATIVE_MAX_LENGTH


class PeriodField(forms.CharField):
    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_period(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class PrepareForm(forms.Form):
    period = PeriodField(label=_("期间"), max_length=10, help_text=_("2026-06、2026-Q2 或 2026"))
    consignment = forms.ModelChoiceField(label=_("批次"), queryset=None, empty_label=None)

    def __init__(self, *args, consignments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consignment"].queryset = consignments


class RollupForm(forms.Form):
    period = PeriodField(label=_("期间"), max_length=10, help_text=_("2026-06、2026-Q2 或 2026"))


class NarrativeForm(forms.Form):
    narrative = forms.CharField(
        label=_("工作说明"),
        required=False,
        max_length=NARRATIVE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("本期工作概况、亮点和问题，4000 字以内。"),
        error_messages={
            "max_length": _(
                "工作说明最多 %(limit_value)d 字，现在是 %(show_value)d 字。"
                "没有保存，请删减后再保存。"
            )
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The browser would cut a longer paste at the limit without a word; the server refuses
        # it instead and keeps the text on the page.
        self.fields["narrative"].widget.attrs.pop("maxlength", None)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[("accept", _("通过")), ("return", _("退回修改"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("退回时必填。"),
    )
