from django.urls import path

from jobs import views

app_name = "jobs"

urlpatterns = [
    path("<uuid:pk>/", views.job_detail, name="job-detail"),
    path("<uuid:pk>/status.json", views.job_status, name="job-status"),
    path("<uuid:pk>/download/", views.job_download, name="job-download"),
]
