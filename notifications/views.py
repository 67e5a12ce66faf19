from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import PreferencesForm
from .selectors import (
    DUE_SOON,
    OVERDUE,
    deadline_list_for_user,
    failed_outbox_for_supervisor,
    notification_get_for_user,
    notification_list_for_user,
    preference_matrix_for_user,
    supervised_agency_ids,
    user_has_deadline_role,
)
from .services import notification_mark_all_read, notification_mark_read, preferences_update, user_contact_update
from .texts import notification_language, report_labels_attach

PAGE_SIZE = 50


@login_required
def notification_centre(request):
    page = Paginator(notification_list_for_user(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = report_labels_attach(notifications=page.object_list)
    return render(request, "notifications/centre.html", {"page": page})


def _own_notification(request, notification_id: int):
    notification = notification_get_for_user(user=request.user, notification_id=notification_id)
    if notification is None:
        raise Http404
    return notification


@login_required
@require_POST
def notification_read(request, notification_id: int):
    notification = _own_notification(request, notification_id)
    notification_mark_read(notification=notification)
    # The link was checked to be a plain path inside HopLuc when the notification was written.
    if "open" in request.POST:
        return redirect(notification.link)
    return redirect("notifications:centre")


@login_required
@require_POST
def notification_read_all(request):
    count = notification_mark_all_read(user=request.user)
    messages.success(request, _("%(count)d notifications marked as read.") % {"count": count})
    return redirect("notifications:centre")


@login_required
def preferences(request):
    rows = preference_matrix_for_user(user=request.user)
    contact = getattr(request.user, "contact", None)
    initial = {"phone": contact.phone if contact else "", "language": notification_language(user=request.user)}
    form = PreferencesForm(request.POST or None, rows=rows, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_contact_update(
                user=request.user, phone=form.cleaned_data["phone"], language=form.cleaned_data["language"]
            )
            preferences_update(user=request.user, choices=form.choices())
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    for error in errors:
                        form.add_error(field, error)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, _("Your notification settings were saved."))
            return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def my_deadlines(request):
    if not user_has_deadline_role(user=request.user):
        raise PermissionDenied
    now = timezone.now()
    return render(request, "notifications/deadlines.html", {
        "overdue": list(deadline_list_for_user(user=request.user, state=OVERDUE, now=now)[:200]),
        "due_soon": list(deadline_list_for_user(user=request.user, state=DUE_SOON, now=now)[:200]),
        "now": now,
    })


@login_required
def failed_deliveries(request):
    """Supervisors: the emails and SMS to their staff that were given up on (the notice itself is
    still in the recipient's notification centre)."""
    agency_ids = supervised_agency_ids(user=request.user)
    if not agency_ids:
        raise PermissionDenied
    page = Paginator(failed_outbox_for_supervisor(agency_ids=agency_ids), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/failed.html", {"page": page})
