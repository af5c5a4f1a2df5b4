from django.urls import path

app_name = "circulation"
urlpatterns = []
