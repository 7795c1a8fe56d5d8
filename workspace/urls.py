from django.urls import path

from workspace import views, views_fix

urlpatterns = [
    path("", views.home, name="home"),
    path("warnings/<str:code>/", views.warnings_list, name="warnings_list"),
    path("warnings/<str:code>/decide/", views.warnings_decide, name="warnings_decide"),
    path("warnings/<str:code>/assign/", views.warnings_assign, name="warnings_assign"),
    path("warnings/<str:code>/quality/", views.warnings_quality, name="warnings_quality"),
    path("freshness/<str:key>/", views.freshness_status, name="freshness_status"),
    # The 清零清单 pages are the dashboards' (indicators); assigning from one of their rows is this flow.
    path("lists/<str:code>/<str:unit>/assign/", views.list_assign, name="indicator_list_assign"),
    path("lists/<str:code>/<str:unit>/fix/", views_fix.list_fix, name="indicator_list_fix"),
]
