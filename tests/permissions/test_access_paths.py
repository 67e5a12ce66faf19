"""Issue 10: access that holds on every path. One test (at least) per finding of the black-box
permission matrix; each failed before the fix (checked by reverting it) and passes after.

1. an analyst attached to an agency as a responder read cases;
2. a user put into an agency's auth group without a membership read cases;
3. a transfer shared a category the survivor refused to the new lead;
4. an expired refusal was still applied until some unrelated change recomputed the rows;
5. break-glass granted a category refused to the user's sector, and a consent record that only
   refuses opened the case to an accepted referral's receiver.
"""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from agencies.models import AgencyGroup, AnalystScope, Membership, Role
from agencies.services import agency_group_name, membership_add
from agencies.triggers import _statements
from cases.breakglass import break_glass_open
from cases.models import CaseAccessRow, CaseGroupObjectPermission, CaseUserObjectPermission
from cases.selectors import case_get_for_user, case_list_visible_to
from config.exceptions import NotFound
from handoffs.models import HandoffKind
from handoffs.services import handoff_accept
from permissions.access import VIEW_BIT
from permissions.categories import DataCategory
from tests.cases.services_helpers import handoff_send_through_edge
from tests.conftest import make_user
from tests.supervision.conftest import REASON, grant_break_glass

from .conftest import consent, handoff, share

ALL = frozenset(DataCategory.values)


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def seen(user, case) -> tuple[int, list[str] | None]:
    """The API's answer for the case: status and the categories the reader sees."""
    response = api(user).get(f"/api/cases/{case.pk}/")
    return response.status_code, (response.json()["access"]["categories"] if response.status_code == 200 else None)


def listed(user) -> set[str]:
    response = api(user).get("/api/cases/")
    assert response.status_code == 200
    return {row["number"] for row in response.json()["results"]}


def agency_group(agency, role) -> Group:
    return AgencyGroup.objects.get(agency=agency, role=role).group


def _without_membership_triggers():
    """Drop the membership triggers inside the test's transaction (rolled back with it): the state a
    restored backup or a hand-made SQL change could leave behind."""
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=False):
            cursor.execute(sql)


# --- Finding 1: an analyst (or an agency admin, or a superuser) reads cases ------------------------


def test_an_analyst_cannot_be_attached_as_a_responder_by_the_staff_page(world, case, client):
    client.force_login(world.lead_admin)
    response = client.post(f"/agencies/{world.police.pk}/staff/add/",
                           {"existing-username": "analyst", "existing-role": "responder"})
    assert response.status_code == 400
    assert not Membership.objects.filter(user=world.analyst).exists()
    assert seen(world.analyst, case) == (404, None) and listed(world.analyst) == set()


@pytest.mark.parametrize("who", ["analyst", "lead_admin", "sysadmin"])
def test_the_service_and_the_database_refuse_a_case_role_to_those_who_never_read_cases(world, who):
    user = getattr(world, who)
    with pytest.raises(ValidationError):
        membership_add(user=user, agency=world.health, role=Role.RESPONDER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, agency=world.health, role=Role.SUPERVISOR)


def test_the_database_refuses_the_other_way_round_too(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        AnalystScope.objects.create(user=world.lead_responder, province=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=world.lead_responder, agency=world.health, role=Role.AGENCY_ADMIN)
    world.lead_responder.is_superuser = True
    with pytest.raises(IntegrityError), transaction.atomic():
        world.lead_responder.save()
    with pytest.raises(ValidationError):
        membership_add(user=world.lead_responder, agency=world.health, role=Role.AGENCY_ADMIN)


def test_no_case_for_them_whatever_rows_exist(world, case):
    """Rows put straight into the tables (a bug, a hand-made fix) still open nothing to an analyst, an
    agency admin or a superuser."""
    view = Permission.objects.get(content_type__app_label="cases", codename="view_case")
    admin_group = agency_group(world.police, Role.AGENCY_ADMIN)
    CaseGroupObjectPermission.objects.create(group=admin_group, permission=view, content_object=case)
    for user in (world.analyst, world.sysadmin, world.lead_admin):
        CaseUserObjectPermission.objects.create(user=user, permission=view, content_object=case)
        CaseAccessRow.objects.create(case=case, user=user, rights=VIEW_BIT, case_updated_at=case.updated_at)
        assert seen(user, case) == (404, None)
        # Object checks answer from the access rows and the same rule (the superuser is Django's own
        # yes to everything, before any backend is asked).
        if not user.is_superuser:
            assert not user.has_perm("cases.view_case", case)
        assert not case_list_visible_to(user=user).exists()
        with pytest.raises(NotFound):
            case_get_for_user(user=user, case_id=case.pk)


# --- Finding 2: access followed auth groups, not memberships ---------------------------------------


def test_the_database_refuses_an_agency_group_member_without_the_membership(world, case):
    stranger = make_user("stranger")
    with pytest.raises(IntegrityError), transaction.atomic():
        stranger.groups.add(agency_group(world.police, Role.RESPONDER))
    # A member in one role is not a member of the other role's group.
    with pytest.raises(IntegrityError), transaction.atomic():
        world.lead_responder.groups.add(agency_group(world.police, Role.SUPERVISOR))


def test_reads_follow_memberships_even_when_the_groups_drifted(world, case):
    _without_membership_triggers()
    stranger = make_user("stranger")
    stranger.groups.add(agency_group(world.police, Role.RESPONDER))
    assert seen(stranger, case) == (404, None) and listed(stranger) == set()
    # And a real member whose group row went missing keeps the rights of the membership.
    world.lead_responder.groups.clear()
    assert seen(world.lead_responder, case) == (200, sorted(ALL))


def test_deleting_a_membership_or_changing_its_role_takes_the_group_rows_with_it(world):
    Membership.objects.filter(user=world.lead_responder).update(role=Role.SUPERVISOR)
    assert not world.lead_responder.groups.exists()
    Membership.objects.filter(user=world.lead_supervisor).delete()
    assert not world.lead_supervisor.groups.exists()


def test_the_admin_shows_agency_groups_read_only(world, client):
    client.force_login(world.sysadmin)
    group = agency_group(world.police, Role.RESPONDER)
    page = client.get(f"/admin/auth/group/{group.pk}/change/")
    assert page.status_code == 200 and b'name="name"' not in page.content
    assert client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"}).status_code == 403
    stranger = make_user("stranger")
    form = client.get(f"/admin/auth/user/{stranger.pk}/change/")
    assert form.status_code == 200
    groups_field = form.context["adminform"].form.fields["groups"]
    assert not groups_field.queryset.filter(agency_group__isnull=False).exists()
    # Saving a member's page keeps the groups their memberships call for.
    member = world.lead_responder
    data = {"username": member.username, "first_name": "", "last_name": "", "email": "", "is_active": "on",
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "groups": [], "user_permissions": []}
    response = client.post(f"/admin/auth/user/{member.pk}/change/", data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert set(member.groups.all()) == {agency_group(world.police, Role.RESPONDER)}
    # The superuser flag cannot be set on a responder.
    data["is_superuser"] = "on"
    assert client.post(f"/admin/auth/user/{member.pk}/change/", data).status_code == 200
    member.refresh_from_db()
    assert not member.is_superuser


def test_the_nightly_task_reports_and_repairs_drift_with_an_audit_event(world, settings):
    from agencies.tasks import reconcile_agency_groups
    from audit.models import AuditEvent
    from config.celery import app

    assert reconcile_agency_groups.apply().get() == {"missing": 0, "extra": 0}
    _without_membership_triggers()
    stranger = make_user("stranger")
    stray = agency_group(world.police, Role.RESPONDER)
    stranger.groups.add(stray)
    world.lead_supervisor.groups.clear()
    assert reconcile_agency_groups.apply().get() == {"missing": 1, "extra": 1}
    assert not stranger.groups.exists()
    assert set(world.lead_supervisor.groups.values_list("name", flat=True)) == {
        agency_group_name(agency=world.police, role=Role.SUPERVISOR)}
    event = AuditEvent.objects.get(target="agency_groups")
    assert event.details["removed"] == [[stranger.pk, stray.pk]]
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "agencies.tasks.reconcile_agency_groups")
    assert entry["schedule"].hour == {1} and len(entry["schedule"].day_of_week) == 7
    assert "agencies.tasks.reconcile_agency_groups" in app.tasks


# --- Finding 3: a transfer shared a category the survivor refused -----------------------------------


def test_a_transfer_to_an_agency_under_a_refusal_makes_it_lead_without_the_refused_category(world, case):
    consent(world, case, agency=world.health, granted=["contact"], refused=["identity"])
    access = case_get_for_user(user=world.lead_responder, case_id=case.pk, require="manage_sharing")
    transfer = handoff_send_through_edge(access=access, actor=world.lead_responder, data={
        "kind": "transfer", "to_agency": world.health, "services": ["medical_care"], "urgency": "urgent",
        "categories": ["contact"], "message": "Chuyển ca."})
    handoff_accept(user=world.receiving_responder, handoff_id=transfer.pk)
    case.refresh_from_db()
    assert case.lead_agency == world.health
    access = case_get_for_user(user=world.receiving_responder, case_id=case.pk)
    assert access.can("manage_sharing") and access.categories == ALL - {"identity"}
    response = api(world.receiving_responder).get(f"/api/cases/{case.pk}/")
    assert response.status_code == 200 and "full_name" not in response.json()["survivor"]
    # The former lead keeps everything it collected.
    assert case_get_for_user(user=world.lead_responder, case_id=case.pk).categories == ALL


def test_a_refusal_to_the_lead_agency_binds_the_lead(world, case):
    consent(world, case, sector="police", refused=["psychosocial"])
    assert seen(world.lead_responder, case) == (200, sorted(ALL - {"psychosocial"}))


def test_a_refusal_to_another_agency_does_not_bind_the_lead(world, case):
    consent(world, case, agency=world.health, granted=["medical"], refused=["identity"])
    assert seen(world.lead_responder, case) == (200, sorted(ALL))


# --- Finding 4: an expired refusal was still applied ----------------------------------------------


def test_a_refusal_ends_at_its_instant_for_the_very_next_request(world, case):
    ends = timezone.now() + datetime.timedelta(days=3)
    share(world, case, agency=world.health, granted=["contact", "medical"])
    consent(world, case, sector="health", refused=["medical"], expires_at=ends)
    assert seen(world.receiving_responder, case) == (200, ["contact"])
    with time_machine.travel(ends - datetime.timedelta(seconds=1), tick=False):
        assert seen(world.receiving_responder, case) == (200, ["contact"])
    with time_machine.travel(ends, tick=False):
        assert seen(world.receiving_responder, case) == (200, ["contact", "medical"])


def test_a_refusal_to_the_lead_ends_on_time_too(world, case):
    ends = timezone.now() + datetime.timedelta(hours=5)
    consent(world, case, agency=world.police, refused=["identity"], expires_at=ends)
    assert seen(world.lead_responder, case) == (200, sorted(ALL - {"identity"}))
    with time_machine.travel(ends, tick=False):
        assert seen(world.lead_responder, case) == (200, sorted(ALL))


def test_a_consent_ends_at_its_instant(world, case):
    ends = timezone.now() + datetime.timedelta(days=1)
    share(world, case, agency=world.health, granted=["medical"], expires_at=ends)
    assert seen(world.receiving_responder, case) == (200, ["medical"])
    with time_machine.travel(ends, tick=False):
        assert seen(world.receiving_responder, case) == (404, None)
        assert listed(world.receiving_responder) == set()


def test_a_break_glass_use_ends_at_its_instant(world, case):
    doctor = grant_break_glass(world.outsider_responder)
    use = break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["medical"])
    assert seen(doctor, case) == (200, ["medical"])
    with time_machine.travel(use.ends_at, tick=False):
        assert seen(doctor, case) == (404, None)


def test_a_refusal_ending_while_another_consent_has_ended_leaves_two_separate_intervals(world, case):
    """The receiver sees the case while its agency consent lasts, not in between, and again once the
    sector refusal ends: one right, two intervals."""
    now = timezone.now()
    t1, t2 = now + datetime.timedelta(days=1), now + datetime.timedelta(days=2)
    consent(world, case, agency=world.health, granted=["contact"], expires_at=t1)
    consent(world, case, sector="health", granted=["medical"])
    consent(world, case, sector="health", refused=["medical"], expires_at=t2)
    handoff(world, case, to=world.health, categories=["contact", "medical"])
    assert seen(world.receiving_responder, case) == (200, ["contact"])
    with time_machine.travel(t1, tick=False):
        assert seen(world.receiving_responder, case) == (404, None)
    with time_machine.travel(t2, tick=False):
        assert seen(world.receiving_responder, case) == (200, ["medical"])


# --- Finding 5: break-glass past a refusal; a refusal-only consent opening the case ----------------


def test_break_glass_cannot_open_a_category_refused_to_the_users_sector(world, case):
    consent(world, case, sector="education", refused=["medical"])
    doctor = grant_break_glass(world.outsider_responder)
    with pytest.raises(ValidationError) as info:
        break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["medical", "contact"])
    assert "categories" in info.value.message_dict
    break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["contact"])
    assert seen(doctor, case) == (200, ["contact"])


def test_a_refusal_recorded_after_break_glass_binds_it_too(world, case):
    doctor = grant_break_glass(world.outsider_responder)
    break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["medical", "contact"])
    consent(world, case, agency=world.school, refused=["medical"])
    assert seen(doctor, case) == (200, ["contact"])


def test_a_consent_that_only_refuses_does_not_open_the_case(world, case):
    consent(world, case, agency=world.health, refused=["identity"])
    handoff(world, case, to=world.health, categories=[])
    assert seen(world.receiving_responder, case) == (404, None)
    assert listed(world.receiving_responder) == set()


def test_a_consent_whose_grants_are_all_refused_elsewhere_does_not_open_the_case(world, case):
    consent(world, case, agency=world.health, granted=["medical"])
    consent(world, case, sector="health", refused=["medical"])
    handoff(world, case, to=world.health, categories=["medical"])
    assert seen(world.receiving_responder, case) == (404, None)


def test_a_transfer_kind_handoff_helper_still_opens_the_case_to_the_new_lead(world, case):
    """The lead needs no consent: a transfer under no refusal gives it everything."""
    handoff(world, case, to=world.health, categories=[], kind=HandoffKind.TRANSFER)
    assert seen(world.receiving_responder, case) == (200, sorted(ALL))
