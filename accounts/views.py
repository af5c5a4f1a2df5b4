"""Sign-in pages are Django's auth views with the project's templates (see urls.py); only the
page after a password change is ours, so that it lands back in the app with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _


@login_required
def password_change_done(request):
    messages.success(request, _("密码已修改。"))
    return render(request, "registration/password_change_done.html")
