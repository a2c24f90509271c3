from django.urls import path

from core.console import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("desk/", views.switch_desk_view, name="switch-desk"),
]
