from django.urls import path

from signoff import views

urlpatterns = [
    path("signoff/", views.home, name="signoff_home"),
    path("signoff/city/", views.city, name="signoff_city"),
    path("signoff/county/<str:code>/", views.county, name="signoff_county"),
    path("signoff/township/<str:code>/", views.township, name="signoff_township"),
    path("signoff/village/<str:code>/", views.village, name="signoff_village"),
    path("signoff/village/<str:code>/submit/", views.submit, name="signoff_submit"),
    path("signoff/village/<str:code>/township-review/", views.township_review, name="signoff_township_review"),
    path("signoff/village/<str:code>/county-review/", views.county_review, name="signoff_county_review"),
    path("signoff/bulk/", views.bulk, name="signoff_bulk"),
    path("signoff/export/", views.export_view, name="signoff_export"),
]
