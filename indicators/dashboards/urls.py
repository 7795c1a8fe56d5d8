from django.urls import path

from indicators.dashboards import views

urlpatterns = [
    path("dashboard/", views.dashboard_home, name="dashboard_home"),
    path("dashboard/city/", views.dashboard_city, name="dashboard_city"),
    path("dashboard/export/", views.dashboard_export, name="dashboard_export"),
    path("dashboard/county/<str:code>/", views.dashboard_county, name="dashboard_county"),
    path("dashboard/township/<str:code>/", views.dashboard_township, name="dashboard_township"),
    path("dashboard/department/<str:name>/", views.dashboard_department, name="dashboard_department"),
    path("sites/<str:code>/", views.site_view, name="site_view"),
    path("lists/<str:code>/<str:unit>/", views.indicator_list, name="indicator_list"),
]
