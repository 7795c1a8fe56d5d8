from django.urls import path

from indicators.assessment import views

urlpatterns = [
    path("assessment/", views.assessment_years, name="assessment_years"),
    path("assessment/<int:year>/", views.assessment_detail, name="assessment_detail"),
    path("assessment/<int:year>/compute/", views.assessment_compute, name="assessment_compute"),
    path("assessment/<int:year>/publish/", views.assessment_publish, name="assessment_publish"),
    path("assessment/<int:year>/config/", views.assessment_config, name="assessment_config"),
    path("assessment/<int:year>/runs/<int:run_id>/", views.assessment_run, name="assessment_run"),
    path("assessment/<int:year>/report.<str:fmt>", views.assessment_download, name="assessment_download"),
    path("assessment/<int:year>/<str:unit_code>/", views.assessment_unit_detail, name="assessment_unit"),
]
