"""The agency admin's staff page: who works in their agency, in which role. No case content here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .forms import AddExistingPersonForm, NewPersonForm, RoleForm
from .models import Agency, Membership, Role
from .selectors import agency_for_admin, agency_staff_list, user_is_agency_admin
from .services import membership_add, staff_change_role, staff_create_person, staff_remove


def _get_agency_for_admin(request, agency_id: int) -> Agency:
    """The one place that decides who manages an agency's staff: people who are no agency admin
    anywhere are refused outright; an admin asking for another agency learns nothing about it."""
    if not user_is_agency_admin(user=request.user):
        raise PermissionDenied
    agency = agency_for_admin(user=request.user, agency_id=agency_id)
    if agency is None:
        raise Http404
    return agency


def _get_membership(agency: Agency, membership_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "agency"), pk=membership_id, agency=agency)


def _render_staff(request, agency: Agency, *, status: int = 200, existing_form=None, new_form=None,
                  role_form=None, role_form_for=None):
    staff = list(agency_staff_list(agency=agency))
    rows = []
    for membership in staff:
        if role_form is not None and membership.pk == role_form_for:
            form = role_form
        else:
            form = RoleForm(initial={"role": membership.role}, prefix=f"m{membership.pk}")
        rows.append((membership, form))
    context = {
        "agency": agency,
        "rows": rows,
        "existing_form": existing_form or AddExistingPersonForm(agency=agency, prefix="existing"),
        "new_form": new_form or NewPersonForm(prefix="new"),
    }
    return render(request, "agencies/staff_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def staff_list(request, agency_id: int):
    agency = _get_agency_for_admin(request, agency_id)
    return _render_staff(request, agency)


@login_required
@require_POST
def staff_add_existing(request, agency_id: int):
    agency = _get_agency_for_admin(request, agency_id)
    form = AddExistingPersonForm(request.POST, agency=agency, prefix="existing")
    if not form.is_valid():
        return _render_staff(request, agency, status=400, existing_form=form)
    try:
        membership = membership_add(user=form.user, agency=agency, role=form.cleaned_data["role"])
    except ValidationError as exc:
        form.add_error("role", exc)
        return _render_staff(request, agency, status=400, existing_form=form)
    messages.success(request, _("%(person)s now works here as %(role)s.") % {
        "person": membership.user.get_full_name() or membership.user.username, "role": membership.get_role_display(),
    })
    return redirect("agencies:staff", agency_id=agency.pk)


@never_cache
@login_required
@require_POST
def staff_create(request, agency_id: int):
    agency = _get_agency_for_admin(request, agency_id)
    form = NewPersonForm(request.POST, prefix="new")
    if form.is_valid():
        data = form.cleaned_data
        try:
            membership, password = staff_create_person(
                agency=agency, username=data["username"], full_name=data["full_name"], email=data["email"],
                role=data["role"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Shown in this response only and never stored in clear: reloading cannot show it again.
            return render(request, "agencies/staff_created.html",
                          {"agency": agency, "membership": membership, "password": password})
    return _render_staff(request, agency, status=400, new_form=form)


@login_required
@require_POST
def staff_change(request, agency_id: int, membership_id: int):
    agency = _get_agency_for_admin(request, agency_id)
    membership = _get_membership(agency, membership_id)
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            changed = staff_change_role(membership=membership, role=form.cleaned_data["role"])
        except ValidationError as exc:
            form.add_error("role", exc)
        else:
            messages.success(request, _("%(person)s is now %(role)s.") % {
                "person": changed.user.get_full_name() or changed.user.username, "role": changed.get_role_display(),
            })
            if changed.user_id == request.user.pk and changed.role != Role.AGENCY_ADMIN:
                # They gave up managing this agency, so its staff page is no longer theirs to see.
                return redirect("accounts:home")
            return redirect("agencies:staff", agency_id=agency.pk)
    return _render_staff(request, agency, status=400, role_form=form, role_form_for=membership.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_remove_view(request, agency_id: int, membership_id: int):
    agency = _get_agency_for_admin(request, agency_id)
    membership = _get_membership(agency, membership_id)
    error = None
    if request.method == "POST":
        try:
            staff_remove(membership=membership)
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, _("%(person)s no longer works in %(agency)s.") % {
                "person": membership.user.get_full_name() or membership.user.username, "agency": agency.name,
            })
            if membership.user_id == request.user.pk:
                return redirect("accounts:home")
            return redirect("agencies:staff", agency_id=agency.pk)
    return render(request, "agencies/staff_remove.html",
                  {"agency": agency, "membership": membership, "error": error}, status=400 if error else 200)
