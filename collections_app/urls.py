from django.urls import path

from collections_app import views

app_name = "collections"
urlpatterns = [
    path("sites/", views.site_list, name="site-list"),
    path("sites/<slug:library_code>/<slug:site_code>/", views.site_detail, name="site-detail"),
    path("items/", views.item_list, name="item-list"),
    path("items/<str:barcode>/", views.item_detail, name="item-detail"),
]
