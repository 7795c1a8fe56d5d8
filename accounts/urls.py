from django.urls import path

from . import views, views_tokens

urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_edit, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/tokens/", views_tokens.user_tokens, name="user_tokens"),
    path("account/tokens/", views_tokens.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="token_revoke"),
    path("history/", views.history_list, name="history_list"),
    path("persons/<int:pk>/unmask/", views.person_unmask, name="person_unmask"),
]
