"""Receiving a consignment, under /collections/consignments/ in the `collections` namespace
(included from collections_app/urls.py without a namespace of its own)."""

from django.urls import path

from collections_app import receiving_views as views

urlpatterns = [
    path("", views.consignment_list, name="consignment-list"),
    path("announce/", views.consignment_announce_view, name="consignment-announce"),
    path(
        "manifest-template.<str:fmt>", views.manifest_template, name="consignment-manifest-template"
    ),
    path("<int:pk>/", views.consignment_detail, name="consignment-detail"),
    path("<int:pk>/import/", views.consignment_import_view, name="consignment-import"),
    path(
        "<int:pk>/import/commit/",
        views.consignment_import_commit,
        name="consignment-import-commit",
    ),
    path("<int:pk>/start/", views.consignment_start, name="consignment-start"),
    path("<int:pk>/scan/", views.consignment_scan_view, name="consignment-scan"),
    path("<int:pk>/sign-off/", views.consignment_sign_off_view, name="consignment-sign-off"),
    path(
        "<int:pk>/export/<str:which>.<str:fmt>",
        views.consignment_export,
        name="consignment-export",
    ),
    path("<int:pk>/labels/", views.consignment_labels, name="consignment-labels"),
]
