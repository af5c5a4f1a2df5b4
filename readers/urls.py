from django.urls import path

from . import views

app_name = "readers"

urlpatterns = [
    path("", views.libraries, name="libraries"),
    path("<slug:library>/", views.home, name="home"),
    path("<slug:library>/search/", views.search_page, name="search"),
    path("<slug:library>/titles/<int:pk>/", views.title_detail, name="title"),
    path("<slug:library>/new/", views.new_arrivals, name="new-arrivals"),
    path("<slug:library>/popular/", views.popular, name="popular"),
]
