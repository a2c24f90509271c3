from django.urls import path

from core.console import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code_view, name="login-code"),
    path("login/set-up/", views.login_setup_view, name="login-set-up"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/two-step/", views.two_step_view, name="two-step"),
    path("desk/", views.switch_desk_view, name="switch-desk"),
    path("attention/", views.attention_view, name="attention"),
    path("language/", views.switch_language_view, name="switch-language"),
]
