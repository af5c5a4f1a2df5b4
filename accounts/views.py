"""Signing in as the librarian sees it: a locked-out username gets the product's own login
page with a plain message and the wait, not a bare 403 or 429 page; the interface language
a user chose is kept on their account and applied when they sign in."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts.lockouts import lockout_message
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
