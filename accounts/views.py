from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from agencies.acting import (
    ACTING_AGENCY_SESSION_KEY,
    ACTING_CHOICES_SESSION_KEY,
    acting_agency_parse,
    acting_agency_validate,
    case_membership_agencies,
)
from agencies.models import Membership
from agencies.selectors import agency_for_admin, membership_list_for_user, user_is_agency_admin

from .forms import SignInForm
from .lockout import lockout_lift
from .models import SignInSession
from .passwords import CHANGE_REQUIRED_MESSAGE, SESSION_PASSWORD_CHANGE_DUE, password_changed
from .selectors import (
    ANALYST,
    HOME_BY_ROLE,
    analyst_scope_list_for_user,
    api_token_list_for,
    signin_session_list_for,
    user_home_url_name,
    user_roles,
)
from .services import api_token_revoke, signin_session_end

HOME_TITLES = {
    "responder": gettext_lazy("My work"),
    "supervisor": gettext_lazy("Handoff audit"),
    "agency_admin": gettext_lazy("Agency staff"),
    ANALYST: gettext_lazy("Reports"),
}


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:home")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if SESSION_PASSWORD_CHANGE_DUE in self.request.session:
            context["change_required_message"] = CHANGE_REQUIRED_MESSAGE
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(user=form.user)
        # The gate opens: the initial password is gone.
        self.request.session.pop(SESSION_PASSWORD_CHANGE_DUE, None)
        messages.success(self.request, _("Your password has been changed."))
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, _("You have signed out."))
        return response


@login_required
def home(request):
    url_name = user_home_url_name(user=request.user)
    if url_name is None:
        return render(request, "accounts/no_role.html")
    return redirect(url_name)


def _role_page(request, *, role: str, template: str, **context):
    memberships = list(membership_list_for_user(user=request.user))
    roles = user_roles(user=request.user, memberships=memberships)
    if role not in roles:
        raise PermissionDenied
    context.update(
        current_role=role,
        # Someone holding several roles switches between their home pages from the top bar.
        role_links=[(HOME_TITLES[r], HOME_BY_ROLE[r], r == role) for r in HOME_BY_ROLE if r in roles]
        if len(roles) > 1
        else [],
        memberships=[m for m in memberships if m.role == role],
    )
    return render(request, template, context)


@login_required
def responder_home(request):
    return _role_page(request, role="responder", template="accounts/responder_home.html")


@login_required
def agency_admin_home(request):
    return _role_page(request, role="agency_admin", template="accounts/agency_admin_home.html")


@login_required
def analyst_home(request):
    return _role_page(
        request, role=ANALYST, template="accounts/analyst_home.html",
        scopes=list(analyst_scope_list_for_user(user=request.user)),
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def signins_page(request):
    """The person's own web sessions and API tokens, each of which they can end."""
    current = request.session.session_key
    sessions = [(s, s.session_key == current) for s in signin_session_list_for(user=request.user)]
    return render(request, "accounts/signins.html", {
        "sessions": sessions, "tokens": list(api_token_list_for(user=request.user)),
        "API_TOKEN_HOURS": settings.API_TOKEN_HOURS,
    })


@login_required
@require_POST
def signin_session_end_view(request, session_id: int):
    is_current = SignInSession.objects.filter(
        pk=session_id, user=request.user, session_key=request.session.session_key
    ).exists()
    if not signin_session_end(user=request.user, record_id=session_id):
        raise Http404
    if is_current:
        # This browser's own session is gone: sign it out properly.
        logout(request)
        return redirect("accounts:login")
    messages.success(request, _("The session has been ended: that browser is signed out."))
    return redirect("accounts:signins")


@login_required
@require_POST
def api_token_revoke_view(request, token_id: str):
    if not api_token_revoke(user=request.user, token_key=token_id):
        raise Http404
    messages.success(request, _("The API token has been revoked."))
    return redirect("accounts:signins")


@login_required
@require_POST
def staff_lockout_lift_view(request, agency_id: int, membership_id: int):
    """An agency admin lifts the sign-in pause of one of their staff (audited)."""
    # The same rule as the staff page's (agencies.views): admins of no agency are refused, an admin
    # asking about another agency learns nothing of it.
    if not user_is_agency_admin(user=request.user):
        raise PermissionDenied
    agency = agency_for_admin(user=request.user, agency_id=agency_id)
    if agency is None:
        raise Http404
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, agency=agency)
    lockout_lift(actor=request.user, user=membership.user, agency_id=agency.pk)
    messages.success(request, _("%(person)s can sign in again.") % {
        "person": membership.user.get_full_name() or membership.user.username,
    })
    return redirect("agencies:staff", agency_id=agency.pk)


@login_required
@require_POST
def acting_agency_choose(request):
    """The header's switcher: from now on this person's writes are made for the chosen agency
    (agencies.acting). Refused with a message for an agency they do not work on cases for."""
    try:
        agency = acting_agency_validate(user=request.user, agency_id=acting_agency_parse(request.POST.get("agency")))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        request.session[ACTING_AGENCY_SESSION_KEY] = agency.pk
        # Refreshed here too, so a membership added since sign-in shows up once the person switches.
        request.session[ACTING_CHOICES_SESSION_KEY] = [
            [pk, name] for pk, name in case_membership_agencies(user=request.user).values_list("pk", "name")
        ]
        messages.success(request, _("You now act for %(agency)s.") % {"agency": agency.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "accounts:home"
    return redirect(target)


@require_POST
def session_extend(request):
    """The idle-timeout warning's "stay signed in": this request itself renews the session (marked
    changed, it is written whenever its expiry was last renewed); the answer says how long it now
    lasts. The absolute lifetime (SESSION_ABSOLUTE_HOURS) still applies. A session that has already
    ended gets 401."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=401)
    request.session.modified = True
    return JsonResponse({"signed_in": True, "idle_seconds": settings.SESSION_COOKIE_AGE})
