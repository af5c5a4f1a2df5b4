from django.urls import include, path
from rest_framework.routers import DefaultRouter

from circulation import api as circulation_api
from collections_app import api as collections_api
from jobs import api as jobs_api
from reports import api as reports_api

router = DefaultRouter()
collections_api.register(router)
circulation_api.register(router)
jobs_api.register(router)
reports_api.register(router)

urlpatterns = [path("", include(router.urls))]
