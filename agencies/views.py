"""The agency admin's staff page: who works in their agency, in which role. No case content here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .forms import (
    NOT_ATTACHABLE_MESSAGE,
    AddExistingPersonForm,
    AgencyMfaRequirementForm,
    BreakGlassForm,
    NewPersonForm,
    RoleForm,
)
from .models import CASE_ROLES, Agency, InitialPassword, Membership, Role
from .selectors import agency_for_admin, agency_staff_list, break_glass_holders, user_is_agency_admin
from .services import (
    NotAttachable,
    agency_mfa_requirement_set,
    mfa_reset,
    staff_attach,
    staff_break_glass_set,
    staff_change_role,
    staff_create_person,
    staff_initial_password_reissue,
    staff_remove,
)


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


def _get_staff_row(request, agency_id: int, membership_id: int) -> tuple[Agency, Membership]:
    """The agency the user manages and one of its memberships (a row of the staff page)."""
    agency = _get_agency_for_admin(request, agency_id)
    return agency, _get_membership(agency, membership_id)


def _person(user: User) -> str:
    return user.get_full_name() or user.username


def _render_staff(request, agency: Agency, *, status: int = 200, existing_form=None, new_form=None,
                  role_form=None, role_form_for=None):
    staff = list(agency_staff_list(agency=agency))
    holders = break_glass_holders(user_ids=[m.user_id for m in staff])
    # Whose one-time password is still waiting to be changed (they can be given a new one).
    pending = set(InitialPassword.objects.filter(user__in=[m.user_id for m in staff]).values_list("user_id", flat=True))
    rows = []
    for membership in staff:
        if role_form is not None and membership.pk == role_form_for:
            form = role_form
        else:
            form = RoleForm(initial={"role": membership.role}, prefix=f"m{membership.pk}")
        break_glass_form = (
            BreakGlassForm(initial={"break_glass": membership.user_id in holders}, prefix=f"bg{membership.pk}")
            if membership.role in CASE_ROLES else None
        )
        rows.append((membership, form, break_glass_form))
    context = {
        "agency": agency,
        "rows": rows,
        "pending_initial_password": pending,
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
        membership = staff_attach(user=form.user, agency=agency, role=form.cleaned_data["role"],
                                  actor=request.user)
    except NotAttachable:
        # Someone else took the account between the form's check and now (another admin, or this form
        # sent twice at once).
        form.add_error("username", NOT_ATTACHABLE_MESSAGE)
        return _render_staff(request, agency, status=400, existing_form=form)
    except ValidationError as exc:
        # The person holds a role that never reads cases (permissions/README.md): said on the role.
        form.add_error("role", exc)
        return _render_staff(request, agency, status=400, existing_form=form)
    messages.success(request, _("%(person)s now works here as %(role)s.") % {
        "person": _person(membership.user), "role": membership.get_role_display(),
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
                role=data["role"], actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Shown in this response only and never stored in clear: reloading cannot show it again.
            return render(request, "agencies/staff_created.html",
                          {"agency": agency, "membership": membership, "password": password,
                           "expires_at": membership.user.initial_password.expires_at})
    return _render_staff(request, agency, status=400, new_form=form)


@login_required
@require_POST
def staff_change(request, agency_id: int, membership_id: int):
    agency, membership = _get_staff_row(request, agency_id, membership_id)
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            changed = staff_change_role(membership=membership, role=form.cleaned_data["role"],
                                        actor=request.user)
        except ValidationError as exc:
            form.add_error("role", exc)
        else:
            messages.success(request, _("%(person)s is now %(role)s.") % {
                "person": _person(changed.user), "role": changed.get_role_display(),
            })
            if changed.user_id == request.user.pk and changed.role != Role.AGENCY_ADMIN:
                # They gave up managing this agency, so its staff page is no longer theirs to see.
                return redirect("accounts:home")
            return redirect("agencies:staff", agency_id=agency.pk)
    return _render_staff(request, agency, status=400, role_form=form, role_form_for=membership.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_remove_view(request, agency_id: int, membership_id: int):
    agency, membership = _get_staff_row(request, agency_id, membership_id)
    error = None
    if request.method == "POST":
        try:
            staff_remove(membership=membership, actor=request.user)
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, _("%(person)s no longer works in %(agency)s.") % {
                "person": _person(membership.user), "agency": agency.name,
            })
            if membership.user_id == request.user.pk:
                return redirect("accounts:home")
            return redirect("agencies:staff", agency_id=agency.pk)
    return render(request, "agencies/staff_remove.html",
                  {"agency": agency, "membership": membership, "error": error}, status=400 if error else 200)


@login_required
@require_POST
def staff_mfa_reset(request, agency_id: int, membership_id: int):
    """A lost phone: remove the person's second factor; they set up a new one at their next sign-in.
    System administrators' second factors are reset by an operator (manage.py mfa_reset), not here."""
    agency, membership = _get_staff_row(request, agency_id, membership_id)
    person = membership.user
    if person.is_staff or person.is_superuser:
        messages.error(request, _("A system administrator's second factor is reset by the operators, not here."))
        return redirect("agencies:staff", agency_id=agency.pk)
    mfa_reset(user=person, actor=request.user, agency_id=agency.pk)
    messages.success(request, _("The second factor of %(person)s was reset: they set up a new one when they next "
                                "sign in.") % {"person": _person(person)})
    return redirect("agencies:staff", agency_id=agency.pk)


@login_required
@require_POST
def agency_mfa_setting(request, agency_id: int):
    agency = _get_agency_for_admin(request, agency_id)
    form = AgencyMfaRequirementForm(request.POST)
    form.is_valid()  # a checkbox: absent means off, anything else on; never invalid
    required = bool(form.cleaned_data.get("mfa_required"))
    if agency_mfa_requirement_set(agency=agency, required=required, actor=request.user):
        messages.success(request, _("Everyone in this agency now needs a second factor.") if required
                         else _("Responders of this agency may now sign in without a second factor."))
    return redirect("agencies:staff", agency_id=agency.pk)


@login_required
@require_POST
def staff_break_glass(request, agency_id: int, membership_id: int):
    """The break-glass checkbox of one colleague: given or taken here, audited, no admin site needed."""
    agency, membership = _get_staff_row(request, agency_id, membership_id)
    form = BreakGlassForm(request.POST, prefix=f"bg{membership.pk}")
    person = _person(membership.user)
    if form.is_valid():
        granted = form.cleaned_data["break_glass"]
        try:
            staff_break_glass_set(membership=membership, granted=granted, actor=request.user)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
            return redirect("agencies:staff", agency_id=agency.pk)
        if granted:
            messages.success(request, _("%(person)s may now use break-glass.") % {"person": person})
        else:
            messages.success(request, _("%(person)s may no longer use break-glass.") % {"person": person})
    return redirect("agencies:staff", agency_id=agency.pk)


@never_cache
@login_required
@require_POST
def staff_reissue_password(request, agency_id: int, membership_id: int):
    agency, membership = _get_staff_row(request, agency_id, membership_id)
    try:
        password = staff_initial_password_reissue(membership=membership, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("agencies:staff", agency_id=agency.pk)
    membership.user.refresh_from_db()
    return render(request, "agencies/staff_created.html",
                  {"agency": agency, "membership": membership, "password": password, "reissued": True,
                   "expires_at": InitialPassword.objects.get(user=membership.user).expires_at})
