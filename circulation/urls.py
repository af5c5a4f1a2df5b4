from django.urls import path

from circulation import views

app_name = "circulation"
urlpatterns = [
    path("", views.home, name="home"),
]
