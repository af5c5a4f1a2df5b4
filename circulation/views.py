from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from circulation import reports


@login_required
def home(request):
    return render(request, "circulation/home.html", reports.dashboard(request.user))
