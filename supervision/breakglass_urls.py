"""Mounted at /break-glass/: for holders of the break-glass right, who are not necessarily supervisors."""

from django.urls import path

from . import views

app_name = "break-glass"

urlpatterns = [
    path("", views.break_glass_page, name="open"),
]
