from django.urls import path

from circulation import views

app_name = "circulation"
urlpatterns = [
    path("", views.home, name="home"),
    path("desk/", views.desk, name="desk"),
    path("desk/<slug:library_code>/<slug:site_code>/", views.desk_site, name="desk-site"),
    path("desk/<slug:library_code>/<slug:site_code>/scan/", views.desk_scan, name="desk-scan"),
    path(
        "desk/<slug:library_code>/<slug:site_code>/dispatch/<int:transfer_id>/",
        views.desk_dispatch,
        name="desk-dispatch",
    ),
    path(
        "desk/<slug:library_code>/<slug:site_code>/holds-to-pull/",
        views.holds_to_pull,
        name="holds-to-pull",
    ),
    path("readers/", views.patron_list, name="patron-list"),
    path("readers/new/", views.patron_create, name="patron-create"),
    path("readers/import/", views.patron_import, name="patron-import"),
    path("readers/<int:pk>/", views.patron_detail, name="patron-detail"),
    path("readers/<int:pk>/edit/", views.patron_edit, name="patron-edit"),
    path("readers/<int:pk>/suspend/", views.patron_suspend, name="patron-suspend"),
    path("readers/<int:pk>/reinstate/", views.patron_reinstate, name="patron-reinstate"),
    path("readers/<int:pk>/pin/", views.patron_pin, name="patron-pin"),
    path("readers/<int:pk>/holds/", views.hold_create, name="hold-create"),
    path("holds/<int:pk>/cancel/", views.hold_cancel, name="hold-cancel"),
    path("loans/<int:pk>/renew/", views.loan_renew, name="loan-renew"),
    path("overdue/", views.overdue, name="overdue-list"),
    path("overdue/notices/", views.overdue_notices, name="overdue-notices"),
    path("rules/", views.loan_rules, name="loan-rules"),
    path("closed-days/", views.closed_days, name="closed-days"),
    path("closed-days/<int:pk>/delete/", views.closed_day_delete, name="closed-day-delete"),
]
