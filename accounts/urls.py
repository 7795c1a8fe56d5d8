from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views, views_tokens
from accounts.forms import LoginForm

urlpatterns = [
    # Users with a confirmed TOTP device (city administrators may be required to have one) must
    # give its token; everyone else logs in with username and password.
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_edit, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/tokens/", views_tokens.user_tokens, name="user_tokens"),
    path("account/tokens/", views_tokens.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", views_tokens.token_revoke, name="token_revoke"),
]
