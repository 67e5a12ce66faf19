"""The second step of signing in and the enrolment of an authenticator app.

Both pages are reachable by a signed-in person whose session is not yet verified (the gate in
accounts.middleware lets them through); nothing else is, for someone who needs a second factor.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .forms import SecondFactorCodeForm
from .mfa import (
    SecondFactorError,
    mfa_enrol_confirm,
    mfa_enrolled,
    mfa_recovery_codes_regenerate,
    mfa_required_for,
    recovery_codes_left,
    session_is_verified,
    session_verify,
    totp_device_pending,
    totp_qr_svg,
    totp_secret_base32,
    verify_code,
)


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("accounts:home")


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mfa_verify(request):
    """Second step of signing in: a code from the authenticator app, or a recovery code."""
    if session_is_verified(request):
        return redirect(_next_url(request))
    if not mfa_enrolled(request.user):
        return redirect(f"{reverse('accounts:mfa_setup')}?{request.GET.urlencode()}" if request.GET
                        else reverse("accounts:mfa_setup"))
    form = SecondFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        device = verify_code(request.user, form.cleaned_data["code"]) if form.is_valid() else None
        if device is not None:
            session_verify(request, device)
            return redirect(_next_url(request))
        # The same signal as a wrong password: the audit trail (and any lockout) counts it.
        user_login_failed.send(
            sender=__name__, credentials={"username": request.user.get_username(), "second_factor": True},
            request=request,
        )
        form.errors.clear()
        form.add_error("code", _("The code is not correct, or was already used. Wait for the next code and try again."))
        status = 400
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": _next_url(request)}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def mfa_setup(request):
    """Enrol an authenticator app (QR code + a code to confirm), then show the recovery codes once.

    Someone who already has an authenticator must first give a code from it: a password alone
    never replaces a second factor.
    """
    user = request.user
    enrolled = mfa_enrolled(user)
    if enrolled and not session_is_verified(request):
        return redirect("accounts:mfa_verify")
    if enrolled and request.method != "POST":
        return render(request, "accounts/mfa_status.html", {
            "required": mfa_required_for(user), "recovery_codes_left": recovery_codes_left(user=user),
        })
    if enrolled:
        # POST by an enrolled, verified person: new recovery codes (the old ones stop working).
        codes = mfa_recovery_codes_regenerate(user=user)
        return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)})

    device = totp_device_pending(user=user)
    form = SecondFactorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        codes = None
        if form.is_valid():
            try:
                codes = mfa_enrol_confirm(user=user, device=device, code=form.cleaned_data["code"])
            except SecondFactorError:
                codes = None
        if codes is not None:
            device.refresh_from_db()
            session_verify(request, device)
            messages.success(request, _("Your second factor is set up."))
            return render(request, "accounts/mfa_recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.errors.clear()
        form.add_error("code", _("The code is not correct. Check that the time on your phone is right and try again."))
        status = 400
    return render(request, "accounts/mfa_setup.html", {
        "form": form, "qr_svg": totp_qr_svg(device), "secret": totp_secret_base32(device),
        "required": mfa_required_for(user), "next": _next_url(request),
    }, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def admin_login(request):
    """The Django admin's sign-in page sends people to HopLuc's, which asks for the second factor.

    Someone already signed in lands here when the admin refuses them (not staff): tell them so
    rather than bounce between the two sign-in pages.
    """
    if request.user.is_authenticated:
        raise PermissionDenied
    next_path = request.GET.get("next") or reverse("admin:index")
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_path})}")
