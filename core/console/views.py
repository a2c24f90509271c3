"""The console shell's own pages: log in, log out, switch desk."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.console.shell import console_view, safe_next, switch_desk
from core.errors import InvalidInput


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("console:dashboard")


class LogoutView(auth_views.LogoutView):
    next_page = "console:login"


@require_POST
@console_view
def switch_desk_view(request):
    try:
        desk_id = int(request.POST.get("desk", ""))
    except ValueError:
        raise InvalidInput("Choose one of your desks.") from None
    desk = switch_desk(request, desk_id)
    if desk is None:
        raise InvalidInput("You are not on that desk.", code="not_your_desk")
    messages.info(request, f"You now work for {desk.name} ({desk.code}).")
    return redirect(safe_next(request, reverse("console:dashboard")))
