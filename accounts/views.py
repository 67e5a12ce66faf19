from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from agencies.selectors import membership_list_for_user, user_primary_role

HOME_BY_ROLE = {
    "responder": "accounts:responder_home",
    "supervisor": "accounts:supervisor_home",
    "agency_admin": "accounts:agency_admin_home",
    "analyst": "accounts:analyst_home",
}


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


@login_required
def home(request):
    role = user_primary_role(user=request.user)
    if role is None:
        if request.user.is_staff:
            return redirect("admin:index")
        return render(request, "accounts/no_role.html")
    return redirect(HOME_BY_ROLE[role])


def _role_page(request, *, role: str, template: str):
    if user_primary_role(user=request.user) != role and not _has_role(request.user, role):
        raise PermissionDenied
    return render(request, template, {"memberships": membership_list_for_user(user=request.user)})


def _has_role(user, role: str) -> bool:
    if role == "analyst":
        return user.analyst_scopes.exists()
    return user.memberships.filter(role=role, agency__active=True).exists()


@login_required
def responder_home(request):
    return _role_page(request, role="responder", template="accounts/responder_home.html")


@login_required
def supervisor_home(request):
    return _role_page(request, role="supervisor", template="accounts/supervisor_home.html")


@login_required
def agency_admin_home(request):
    return _role_page(request, role="agency_admin", template="accounts/agency_admin_home.html")


@login_required
def analyst_home(request):
    return _role_page(request, role="analyst", template="accounts/analyst_home.html")
