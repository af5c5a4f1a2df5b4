"""Staff pages of self-service borrowing, apart from the public catalogue's addresses."""

from django.urls import path

from . import staff_views

app_name = "selfservice"

urlpatterns = [
    path("<slug:library_code>/<slug:site_code>/", staff_views.site_self_service, name="site"),
    path(
        "<slug:library_code>/<slug:site_code>/switch/",
        staff_views.site_self_service_switch,
        name="site-switch",
    ),
    path(
        "<slug:library_code>/<slug:site_code>/poster/",
        staff_views.site_self_service_poster,
        name="site-poster",
    ),
]
