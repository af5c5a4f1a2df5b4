from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.volume, name="volume"),
    path("readers/", views.readers, name="readers"),
    path("holdings/", views.holdings, name="holdings"),
    path("holdings/idle/", views.idle_items, name="idle-items"),
    path("preferences/", views.preferences, name="preferences"),
    path("transit/", views.transit, name="transit"),
    path("compare/", views.compare, name="compare"),
    path("demand/", views.demand_page, name="demand"),
    path("period/", views.period_list, name="period-list"),
    path("period/new/", views.period_create, name="period-create"),
    path("period/<int:pk>/", views.period_detail, name="period-detail"),
    path("period/<int:pk>/save/", views.period_save, name="period-save"),
    path("period/<int:pk>/review/", views.period_review, name="period-review"),
    path("period/<int:pk>/download.<str:fmt>", views.period_download, name="period-download"),
    path("period/rollup.<str:fmt>", views.period_rollup, name="period-rollup"),
]
