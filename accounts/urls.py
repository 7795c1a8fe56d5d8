from django.urls import path

from . import views

urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_edit, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("history/", views.history_list, name="history_list"),
    path("persons/<int:pk>/unmask/", views.person_unmask, name="person_unmask"),
]
