"""The interface language is the one the librarian chose, else Chinese. A browser's
Accept-Language is not a choice: a county library's desktop set up in English still shows
Chinese until its user picks English, and that pick is kept on their account.

A program is different: a client of the REST API under /api/ says which language it wants in
Accept-Language (a script of the NLC asks for English), and gets it."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers


def supported(code: str | None) -> str | None:
    """`code` as one of LANGUAGES, or None when it is not one of them."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def chosen_language(request) -> str:
    """The language cookie (set by the switcher, and at sign-in from the account), else the
    signed-in user's saved choice, else LANGUAGE_CODE; for the API, Accept-Language first."""
    if request.path_info.startswith("/api/"):
        language = supported(translation.get_language_from_request(request, check_path=False))
        if language and "HTTP_ACCEPT_LANGUAGE" in request.META:
            return language
    language = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if language:
        return language
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        language = supported(getattr(user, "language", ""))
        if language:
            return language
    return settings.LANGUAGE_CODE


class ChosenLanguageMiddleware(LocaleMiddleware):
    """LocaleMiddleware without Accept-Language. Placed after AuthenticationMiddleware, so a
    signed-in user without the cookie (a new browser) gets their saved choice."""

    def process_request(self, request):
        translation.activate(chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        patch_vary_headers(
            response,
            ("Cookie", "Accept-Language") if request.path_info.startswith("/api/") else ("Cookie",),
        )
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
