from django.urls import path

from notices import views

urlpatterns = [
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/count/", views.notice_count, name="notice_count"),
    path("notices/read-all/", views.notice_read_all, name="notice_read_all"),
    path("notices/<int:pk>/read/", views.notice_read, name="notice_read"),
]
