from django.urls import path

from deadlines import views

urlpatterns = [
    path("deadlines/export/", views.export_view, name="deadlines_export"),
]
