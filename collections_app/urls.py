from django.urls import include, path

from collections_app import box_views, receiving_urls, rotation_views, transfer_views, views

app_name = "collections"
urlpatterns = [
    path("sites/", views.site_list, name="site-list"),
    path("sites/<slug:library_code>/<slug:site_code>/", views.site_detail, name="site-detail"),
    path("items/", views.item_list, name="item-list"),
    path("items/<str:barcode>/", views.item_detail, name="item-detail"),
    path("transfers/", transfer_views.transfer_list, name="transfer-list"),
    path("transfers/new/", transfer_views.transfer_new, name="transfer-new"),
    path("transfers/<int:pk>/", transfer_views.transfer_detail, name="transfer-detail"),
    path("transfers/<int:pk>/scan/", transfer_views.transfer_add_scan, name="transfer-add-scan"),
    path("transfers/<int:pk>/fill/", transfer_views.transfer_fill, name="transfer-fill"),
    path(
        "transfers/<int:pk>/lines/<int:line_pk>/remove/",
        transfer_views.transfer_remove_line,
        name="transfer-remove-line",
    ),
    path(
        "transfers/<int:pk>/dispatch/", transfer_views.transfer_dispatch, name="transfer-dispatch"
    ),
    path("transfers/<int:pk>/cancel/", transfer_views.transfer_cancel, name="transfer-cancel"),
    path(
        "transfers/<int:pk>/pick-list/",
        transfer_views.transfer_pick_list,
        name="transfer-pick-list",
    ),
    path("transfers/<int:pk>/receive/", transfer_views.transfer_receive, name="transfer-receive"),
    path("transit/", transfer_views.transit_dashboard, name="transit"),
    path("boxes/", box_views.box_list, name="box-list"),
    path("boxes/<str:code>/", box_views.box_detail, name="box-detail"),
    path("boxes/<str:code>/pack/", box_views.box_pack_scan, name="box-pack"),
    path("boxes/<str:code>/unpack/", box_views.box_unpack_view, name="box-unpack"),
    path("boxes/<str:code>/send/", box_views.box_send_view, name="box-send"),
    path("displays/new/", box_views.display_new, name="display-new"),
    path("displays/<int:pk>/", box_views.display_detail, name="display-detail"),
    path("displays/<int:pk>/scan/", box_views.display_scan, name="display-scan"),
    path("rotation/", rotation_views.rotation_list, name="rotation-list"),
    path("rotation/new/", rotation_views.rotation_edit, name="rotation-new"),
    path("rotation/<int:pk>/", rotation_views.rotation_detail, name="rotation-detail"),
    path("rotation/<int:pk>/edit/", rotation_views.rotation_edit, name="rotation-edit"),
    path("rotation/<int:pk>/run/", rotation_views.rotation_run, name="rotation-run"),
    path("rotation/<int:pk>/items/", rotation_views.rotation_add_items, name="rotation-add-items"),
    path("suggestions/", rotation_views.suggestion_list, name="suggestions"),
    path("suggestions/accept/", rotation_views.suggestion_accept, name="suggestions-accept"),
    path(
        "suggestions/demand-move/",
        rotation_views.suggestion_demand_move,
        name="suggestions-demand-move",
    ),
    path("consignments/", include(receiving_urls)),
]
