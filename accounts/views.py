"""Sign-in throttling as the librarian sees it: a locked-out username gets the product's own
login page with a plain message and the wait, not a bare 403 or 429 page."""

from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from accounts.lockouts import lockout_message


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
