from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.forms import LoginForm

from . import views

urlpatterns = [
    # Users with a confirmed TOTP device (city administrators may be required to have one) must
    # give its token; everyone else logs in with username and password.
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
]
