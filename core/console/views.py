"""The console shell's own pages: log in (password, then the two-step code), log out,
two-step login set-up, switch desk, switch language; and the admin's log-in page, which
sends people here."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from core import i18n, logins, mfa
from core.console.shell import console_view, render_console, safe_next, switch_desk
from core.errors import InvalidInput


class LoginView(auth_views.LoginView):
    """Step one: the password. Who owes a code goes on to step two, not logged in yet."""

    template_name = "console/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("console:dashboard")

    def form_valid(self, form):
        user = form.get_user()
        if not mfa.owes_code(user):
            response = super().form_valid(form)
            logins.forget_failures(user.get_username())
            return response
        mfa.start_pending(self.request, user, self.get_success_url())
        return redirect("console:login-code" if mfa.has_mfa(user) else "console:login-set-up")


class LogoutView(auth_views.LogoutView):
    next_page = "console:login"


def _finish_login(request, step: mfa.Pending, device) -> None:
    mfa.end_pending(request)
    step.user.otp_device = device  # django-otp records it in the session on login
    auth_login(request, step.user, backend=step.backend)
    logins.forget_failures(step.user.get_username())


def _start_again(request):
    messages.info(request, _("Please log in again: the code step timed out."))
    return redirect("console:login")


def login_code_view(request):
    """Step two: a code from the app, or a recovery code. A wrong code is a failed log-in."""
    step = mfa.pending(request)
    if step is None:
        return _start_again(request)
    username = step.user.get_username()
    error = ""
    if request.method == "POST":
        if logins.is_locked_out(request, username):
            mfa.end_pending(request)
            return logins.lockout_response(request)
        device = mfa.check_code(step.user, request.POST.get("code", ""))
        if device is not None:
            _finish_login(request, step, device)
            if isinstance(device, StaticDevice):
                left = mfa.recovery_codes_left(step.user)
                messages.warning(
                    request,
                    _(
                        "You used a recovery code; %(left)s left. Make new ones under "
                        "Two-step login if you are running out."
                    )
                    % {"left": left},
                )
            return redirect(step.next_url or reverse("console:dashboard"))
        if logins.record_failure(request, username):
            mfa.end_pending(request)
            return logins.lockout_response(request)
        error = _("That code is not right (or came too soon after a wrong one). Try again.")
    return render(
        request, "console/login_code.html", {"error": error}, status=400 if error else 200
    )


def _setup_context(user, error: str = "") -> dict:
    device = mfa.start_setup(user)
    secret = b32encode(device.bin_key).decode()
    return {
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "otpauth_uri": device.config_url,
        "error": error,
    }


def login_setup_view(request):
    """Step two for someone who must use two-step login and has not set it up yet."""
    step = mfa.pending(request)
    if step is None:
        return _start_again(request)
    if mfa.has_mfa(step.user):
        return redirect("console:login-code")
    error = ""
    if request.method == "POST":
        try:
            device, codes = mfa.finish_setup(step.user, request.POST.get("code", ""))
        except mfa.WrongCode as exc:
            error = exc.message
        else:
            _finish_login(request, step, device)
            return render(
                request,
                "console/recovery_codes.html",
                {"codes": codes, "next": step.next_url or reverse("console:dashboard")},
            )
    context = {**_setup_context(step.user, error), "action": reverse("console:login-set-up")}
    return render(request, "console/mfa_setup.html", context, status=400 if error else 200)


@console_view
def two_step_view(request):
    """Set up two-step login (anyone may), or replace the recovery codes."""
    user = request.user
    done = reverse("console:two-step")
    if not mfa.has_mfa(user):
        error = ""
        if request.method == "POST":
            try:
                device, codes = mfa.finish_setup(user, request.POST.get("code", ""))
            except mfa.WrongCode as exc:
                error = exc.message
            else:
                mfa.login_device(request, device)
                return render_console(
                    request, "console/recovery_codes.html", {"codes": codes, "next": done}
                )
        context = {**_setup_context(user, error), "action": done}
        return render_console(
            request, "console/mfa_setup.html", context, status=400 if error else 200
        )
    if request.method == "POST":
        if mfa.check_code(user, request.POST.get("code", "")) is None:
            raise mfa.WrongCode(_("That code is not right (or came too soon after a wrong one)."))
        codes = mfa.new_recovery_codes(user)
        return render_console(
            request, "console/recovery_codes.html", {"codes": codes, "next": done}
        )
    return render_console(
        request,
        "console/two_step.html",
        {"codes_left": mfa.recovery_codes_left(user), "required": mfa.must_use_mfa(user)},
    )


def admin_login_view(request):
    """The admin's log-in page: people log in on the console's, which asks for the code."""
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect("admin:index")
        messages.error(request, _("Your account cannot use the admin."))
        return redirect("console:dashboard")
    next_url = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('console:login')}?{urlencode({'next': next_url})}")


@require_POST
@console_view
def switch_desk_view(request):
    try:
        desk_id = int(request.POST.get("desk", ""))
    except ValueError:
        raise InvalidInput(_("Choose one of your desks.")) from None
    desk = switch_desk(request, desk_id)
    if desk is None:
        raise InvalidInput(_("You are not on that desk."), code="not_your_desk")
    messages.info(
        request, _("You now work for %(name)s (%(code)s).") % {"name": desk.name, "code": desk.code}
    )
    return redirect(safe_next(request, reverse("console:dashboard")))


@console_view
def attention_view(request):
    """What the desk must still act on, as the fragment every page shows and re-fetches."""
    return render_console(request, "console/attention.html")


@require_POST
def switch_language_view(request):
    """The header's language switch: kept on the person's preferences (their next log-in,
    any browser, and the e-mails and SMS texts they get); before log-in, in a cookie."""
    code = request.POST.get("language", "")
    response = redirect(safe_next(request, reverse("console:dashboard")))
    if not i18n.supported(code):
        messages.error(request, _("Choose one of the languages offered."))
        return response
    i18n.remember_language(request, code)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=request.is_secure(),
        httponly=True,
    )
    return response
