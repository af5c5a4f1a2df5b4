from django.urls import path

app_name = "collections"
urlpatterns = []
