"""The import pages (``households.views_imports``). ``/imports/`` and ``/imports/templates/<kind>.xlsx``
are linked from the household list; keep them stable."""

from django.urls import path

from households import views_imports

urlpatterns = [
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/templates/<str:kind>.xlsx", views_imports.import_template, name="import_template"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", views_imports.import_progress, name="import_progress"),
    path("imports/<int:pk>/confirm/", views_imports.import_confirm, name="import_confirm"),
    path("imports/<int:pk>/abandon/", views_imports.import_abandon, name="import_abandon"),
    path("imports/<int:pk>/errors.xlsx", views_imports.import_errors, name="import_errors"),
    path("imports/monthly/", views_imports.import_monthly, name="import_monthly"),
    path("imports/monthly/workbook.xlsx", views_imports.import_monthly_workbook, name="import_monthly_workbook"),
]
