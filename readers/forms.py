"""Forms of reader accounts. Every one is posted with its CSRF token (the templates' csrf_token)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from collections_app.barcodes import MAX_LENGTH


class SignInForm(forms.Form):
    card_number = forms.CharField(label=_("读者证号"), max_length=MAX_LENGTH)
    pin = forms.CharField(label=_("密码"), max_length=32, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card_number"].widget.attrs.update(autocomplete="username")
        self.fields["pin"].widget.attrs.update(autocomplete="current-password", inputmode="numeric")


class HoldPlaceForm(forms.Form):
    pickup_site = forms.ModelChoiceField(label=_("取书站点"), queryset=None, empty_label=None)

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pickup_site"].queryset = sites


class SelfServiceForm(forms.Form):
    barcode = forms.CharField(label=_("图书条码"), max_length=MAX_LENGTH)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["barcode"].widget.attrs.update(
            autocomplete="off", autocapitalize="characters", spellcheck="false", autofocus=True
        )
