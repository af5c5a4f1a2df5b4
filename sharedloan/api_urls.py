from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from circulation import api as circulation_api
from collections_app import api as collections_api
from jobs import api as jobs_api
from reports import api as reports_api
from sharedloan.api_errors import not_found

router = DefaultRouter()
collections_api.register(router)
circulation_api.register(router)
jobs_api.register(router)
reports_api.register(router)

urlpatterns = [
    path("", include(router.urls)),
    # An address under /api/v1/ that names no endpoint (or an object by a malformed id) is
    # answered in the API's error shape, not with the site's HTML page. Only addresses ending
    # in a slash: a missing slash is still redirected to the endpoint that has one.
    re_path(r"^.*/$", not_found, name="api-not-found"),
]
