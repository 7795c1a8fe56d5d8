from django.urls import path

from monitoring import views

urlpatterns = [
    path("monitoring/", views.home, name="monitoring_home"),
    path("monitoring/area/<str:code>/", views.case_list, name="monitoring_cases"),
    path("monitoring/area/<str:code>/export/", views.case_export, name="monitoring_export"),
    path("monitoring/open/", views.case_open, name="monitoring_open"),
    path("monitoring/case/<int:pk>/", views.case_detail, name="monitoring_case"),
    path("monitoring/case/<int:pk>/step/", views.case_step, name="monitoring_case_step"),
    path("monitoring/case/<int:pk>/township/", views.case_township, name="monitoring_case_township"),
    path("monitoring/case/<int:pk>/county/", views.case_county, name="monitoring_case_county"),
    path("monitoring/case/<int:pk>/objection/", views.case_objection, name="monitoring_case_objection"),
    path("monitoring/publicity/<str:code>/", views.publicity, name="monitoring_publicity"),
    path("monitoring/publicity/<str:code>/pdf/", views.publicity_file, name="monitoring_publicity_pdf"),
]
