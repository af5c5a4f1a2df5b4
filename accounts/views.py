"""Signing in as the librarian sees it: a locked-out username gets the product's own login
page with a plain message and the wait, not a bare 403 or 429 page; the interface language
a user chose is kept on their account and applied when they sign in."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts import scope
from accounts.lockouts import lockout_message
from accounts.models import ApiToken
from accounts.tokens import api_token_create, api_token_revoke
from sharedloan.locale import supported


def login_locked_out(request, original_response=None, credentials=None):
    """django-axes' AXES_LOCKOUT_CALLABLE: the login page again, with the lockout message."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    context = {
        "form": form,
        "locked_out": lockout_message(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "registration/login.html", context, status=429)


def _set_language_cookie(response, language):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@require_POST
def set_language(request):
    """Django's language switch, and for a signed-in user the choice saved on their account,
    so it follows them to another browser."""
    response = django_set_language(request)
    language = supported(request.POST.get("language"))
    user = request.user
    if language and user.is_authenticated and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response


class LoginView(auth_views.LoginView):
    """Sign-in that applies the user's saved language: the desk computer shows the language of
    whoever signs in, not that of the last user."""

    def form_valid(self, form):
        response = super().form_valid(form)
        language = supported(form.get_user().language)
        if language:
            _set_language_cookie(response, language)
        return response


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=80,
        help_text=gettext_lazy("写明用在哪里，例如“自助借还机 1 号”或“省馆报表脚本”。"),
    )
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=ApiToken.Kind.choices)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (value, label)
            for value, label in ApiToken.Kind.choices
            if scope.can_make_api_token(user, value)
        ]


def _require_api_tokens(user):
    if not scope.can_use_api_tokens(user):
        raise PermissionDenied


@login_required
def api_tokens(request):
    """The user's own API tokens: make one (its secret shown on this answer only), see when
    each was last used, revoke one."""
    _require_api_tokens(request.user)
    secret = None
    form = ApiTokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        token, secret = api_token_create(
            user=request.user, name=form.cleaned_data["name"], kind=form.cleaned_data["kind"]
        )
        form = ApiTokenForm(user=request.user)
    context = {
        "form": form,
        "secret": secret,
        "tokens": ApiToken.objects.filter(user=request.user),
    }
    return render(request, "accounts/api_tokens.html", context, status=201 if secret else 200)


@login_required
@require_POST
def api_token_revoke_view(request, pk):
    _require_api_tokens(request.user)
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(user=request.user, token=token)
    messages.success(request, _("令牌“%(name)s”已吊销。") % {"name": token.name})
    return redirect("accounts:api-tokens")
