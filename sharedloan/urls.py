from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as accounts_views

handler400 = "sharedloan.errors.bad_request"
handler403 = "sharedloan.errors.permission_denied"
handler404 = "sharedloan.errors.page_not_found"
handler500 = "sharedloan.errors.server_error"

urlpatterns = [
    path("", include("circulation.urls")),
    path("accounts/", include("accounts.urls")),
    path("collections/", include("collections_app.urls")),
    path("reports/", include("reports.urls")),
    path("jobs/", include("jobs.urls")),
    # The public catalogue: no sign-in, one county library per address.
    path("catalogue/", include("readers.urls")),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain; charset=utf-8"),
        name="robots-txt",
    ),
    # Staff: where readers may borrow by themselves (自助借书), per site.
    path("self-service/", include("readers.staff_urls")),
    # The switcher's choice is also kept on the user's account.
    path("i18n/setlang/", accounts_views.set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("sharedloan.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
