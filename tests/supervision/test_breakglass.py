"""Break-glass: exactly the chosen categories, for the window and not after it; reason, audit,
notifications to the right supervisors; refused for those without the right, for analysts and for a
case the user can already open."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from agencies.models import AnalystScope
from audit.models import AuditEvent
from cases.breakglass import break_glass_open
from cases.models import CaseAccessRow, CaseUserObjectPermission
from cases.selectors import case_get_for_user, case_list_visible_to
from cases.services import case_view
from config.exceptions import NotFound
from notifications.models import Notification
from notifications.services import preferences_update
from permissions.access import codenames_from_masks
from permissions.breakglass import break_glass_allowed
from permissions.models import BreakGlassUse
from supervision.serializers import BreakGlassInputSerializer
from tests.cases.services_helpers import through_edge
from tests.conftest import make_user
from tests.supervision.conftest import REASON, REGISTER_ONCE, grant_break_glass
from tests.support.pages import form_tokens, sent_twice

pytestmark = REGISTER_ONCE

HOURS = datetime.timedelta(hours=4)


@pytest.fixture
def doctor(world):
    """A responder of the school in Huế, holding the right through a group."""
    return grant_break_glass(world.outsider_responder)


def test_grants_exactly_the_chosen_categories_for_the_window(world, register, doctor):
    case = register.h1.case
    with pytest.raises(NotFound):
        case_get_for_user(user=doctor, case_id=case.pk)
    before = timezone.now()
    use = break_glass_open(user=doctor, **through_edge(BreakGlassInputSerializer, {
        "case_number": case.number.lower(), "reason": f"  {REASON}  ", "categories": ["psychosocial", "medical"]}))
    assert use.reason == REASON and use.categories == ["medical", "psychosocial"]
    assert use.lead_agency == world.police
    assert before + HOURS <= use.ends_at <= timezone.now() + HOURS
    access = case_get_for_user(user=doctor, case_id=case.pk)
    assert access.categories == {"medical", "psychosocial"}
    assert access.rights == {"view_case"} and access.agency is None
    assert case in case_list_visible_to(user=doctor)
    (row,) = CaseAccessRow.objects.filter(user=doctor, case=case)
    assert (row.valid_from, row.valid_until) == (use.started_at, use.ends_at)
    assert codenames_from_masks(row.rights, row.categories) == {"view_case", "view_medical", "view_psychosocial"}
    # Nothing else: no other case, no other user, and no guardian row (issue 15).
    assert CaseAccessRow.objects.filter(user__isnull=False).count() == 1
    assert not CaseUserObjectPermission.objects.exists()


def test_the_access_ends_by_itself(world, register, doctor):
    case = register.h1.case
    use = break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["medical"])
    just_before = use.ends_at - datetime.timedelta(seconds=1)
    with time_machine.travel(just_before, tick=False):
        assert case_get_for_user(user=doctor, case_id=case.pk).categories == {"medical"}
    with time_machine.travel(use.ends_at, tick=False):
        with pytest.raises(NotFound):
            case_get_for_user(user=doctor, case_id=case.pk)
        assert not case_list_visible_to(user=doctor).exists()
    # The same through the whole read path.
    with time_machine.travel(use.ends_at, tick=False), pytest.raises(NotFound):
        case_view(user=doctor, case_id=case.pk)


def test_a_second_use_after_the_first_ended_replaces_its_rows(world, register, doctor):
    case = register.h1.case
    first = break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["medical", "contact"])
    with time_machine.travel(first.ends_at + datetime.timedelta(minutes=1)):
        second = break_glass_open(user=doctor, case_number=case.number, reason=REASON, categories=["identity"])
        assert first.pk != second.pk
        assert case_get_for_user(user=doctor, case_id=case.pk).categories == {"identity"}
        # The rows of the ended use are gone, not merely past their end.
        assert set(CaseAccessRow.objects.filter(user=doctor).values_list("valid_from", "valid_until")) == {
            (second.started_at, second.ends_at)}
    assert BreakGlassUse.objects.filter(user=doctor).count() == 2


def test_audited_with_categories_pointing_at_the_sealed_reason(world, register, doctor):
    use = break_glass_open(user=doctor, case_number=register.h1.case.number, reason=REASON, categories=["medical"])
    event = AuditEvent.objects.get(action="break_glass")
    # The reason is read from the use, sealed with the case key; the append-only trail holds no text.
    assert (event.actor, event.case_id, event.agency_id, event.categories, event.reason, event.target) == (
        doctor, register.h1.case_id, world.school.pk, ["medical"], "", f"break_glass:{use.pk}")
    assert BreakGlassUse.objects.get(pk=use.pk).reason == REASON


def test_the_lead_and_own_supervisors_are_told_at_once(world, register, doctor):
    use = break_glass_open(user=doctor, case_number=register.h1.case.number, reason=REASON, categories=["medical"])
    told = Notification.objects.filter(event_key=f"break-glass:{use.pk}")
    assert {n.recipient for n in told} == {world.lead_supervisor, world.outsider_supervisor}
    assert {(n.kind, n.case_number, n.link, n.in_app) for n in told} == {
        ("break_glass_used", register.h1.case.number, f"/supervision/break-glass/{use.pk}/", True)}


def test_notification_cannot_be_switched_off_in_the_app(world, register, doctor):
    with pytest.raises(ValidationError):
        preferences_update(user=world.lead_supervisor, choices=[("break_glass_used", "in_app", False)])


def test_refused_for_a_case_the_user_can_already_open(world, register):
    grant_break_glass(world.receiving_responder)
    # Health holds case 4 (it leads it): no break-glass needed, and none given.
    with translation.override("en"), pytest.raises(ValidationError) as info:
        break_glass_open(user=world.receiving_responder, case_number=register.h4.case.number, reason=REASON,
                         categories=["identity"])
    with translation.override("en"):
        assert "already open" in str(info.value.message_dict["case_number"])
    assert not BreakGlassUse.objects.exists() and not AuditEvent.objects.filter(action="break_glass").exists()


@pytest.mark.parametrize("who", ["lead_responder", "outsider_supervisor", "lead_admin", "sysadmin_analyst"])
def test_refused_without_the_right_and_always_for_analysts(world, register, who):
    if who == "sysadmin_analyst":
        # A superuser holds every permission, but an analyst never sees a case.
        user = world.sysadmin
        AnalystScope.objects.create(user=user, province=None)
    else:
        user = getattr(world, who)
    with pytest.raises(PermissionDenied):
        break_glass_open(user=user, case_number=register.h1.case.number, reason=REASON, categories=[])
    assert not BreakGlassUse.objects.exists()


def test_analyst_holding_the_permission_is_refused(world, register):
    grant_break_glass(world.analyst)
    assert not break_glass_allowed(user=world.analyst)
    with pytest.raises(PermissionDenied):
        break_glass_open(user=world.analyst, case_number=register.h1.case.number, reason=REASON, categories=[])


def test_a_superuser_is_refused_whatever_permission_they_hold(world, register):
    """Issue 10: system administrators administer, they do not read cases, break-glass included."""
    assert world.sysadmin.has_perm("permissions.break_glass") and not break_glass_allowed(user=world.sysadmin)
    with pytest.raises(PermissionDenied):
        break_glass_open(user=world.sysadmin, case_number=register.h1.case.number, reason=REASON, categories=[])
    assert not BreakGlassUse.objects.exists()


def test_a_user_without_agency_may_and_only_the_lead_is_told(world, register):
    lone = grant_break_glass(make_user("lone_doctor"))
    use = break_glass_open(user=lone, case_number=register.h1.case.number, reason=REASON, categories=[])
    assert case_get_for_user(user=lone, case_id=register.h1.case_id).categories == set()
    assert {n.recipient for n in Notification.objects.filter(event_key=f"break-glass:{use.pk}")} == {
        world.lead_supervisor}


@pytest.mark.parametrize("data, field", [
    ({"case_number": ""}, "case_number"),
    ({"case_number": "HN-1999-000001"}, "case_number"),
    ({"reason": "Cấp cứu"}, "reason"),
    ({"reason": ""}, "reason"),
    ({"reason": "x" * 2001}, "reason"),
    ({"categories": ["secrets"]}, "categories.0"),
    ({"categories": "medical"}, "categories"),
])
def test_bad_input_is_refused_field_by_field(world, register, doctor, data, field):
    values = {"case_number": register.h1.case.number, "reason": REASON, "categories": ["medical"], **data}
    with pytest.raises(ValidationError) as info:
        break_glass_open(user=doctor, **through_edge(BreakGlassInputSerializer, values))
    assert field in info.value.message_dict
    assert not BreakGlassUse.objects.exists()


def test_inactive_user_with_the_right_is_refused(world, register):
    user = grant_break_glass(make_user("former_doctor"))
    user.is_active = False
    user.save()
    with pytest.raises(PermissionDenied):
        break_glass_open(user=user, case_number=register.h1.case.number, reason=REASON, categories=[])


def test_the_page_opens_the_case_and_the_api_too(world, register, doctor, web, api):
    client = web(doctor)
    assert 'data-testid="nav-break-glass"' in client.get("/break-glass/").content.decode()
    response = client.post("/break-glass/", {"case_number": register.h1.case.number, "reason": REASON,
                                             "categories": ["medical"]})
    assert response.status_code == 302 and response["Location"] == f"/cases/{register.h1.case_id}/"
    assert client.get(response["Location"]).status_code == 200
    # Again: the case is open to them now, so the page says so instead of opening it twice.
    again = client.post("/break-glass/", {"case_number": register.h1.case.number, "reason": REASON})
    assert again.status_code == 400 and BreakGlassUse.objects.count() == 1
    created = api(doctor).post("/api/break-glass/", {"case_number": register.h2.case.number, "reason": REASON,
                                                     "categories": ["contact"]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["categories"] == ["contact"] and created.json()["case_id"] == register.h2.case_id
    bad = api(doctor).post("/api/break-glass/", {"case_number": register.h3.case.number, "reason": "ngắn"},
                           format="json")
    assert bad.status_code == 400 and "reason" in bad.json()


@pytest.mark.parametrize("who", ["lead_responder", "lead_supervisor", "lead_admin", "analyst", None])
def test_the_page_and_api_refuse_those_without_the_right(world, register, web, api, who):
    user = getattr(world, who) if who else None
    page = web(user).get("/break-glass/")
    assert page.status_code == (302 if user is None else 403)
    response = api(user).post("/api/break-glass/", {"case_number": register.h1.case.number, "reason": REASON},
                              format="json")
    assert response.status_code == 403
    assert not BreakGlassUse.objects.exists()


def test_the_page_sent_twice_opens_the_case_once_and_both_land_on_it(world, register, doctor, web):
    client = web(doctor)
    token = form_tokens(client.get("/break-glass/").content.decode())[""]
    first, _again = sent_twice(client, BreakGlassUse, "/break-glass/", {
        "case_number": register.h1.case.number, "reason": REASON, "categories": ["medical"], "sending_token": token},
        written=1)
    assert first["Location"] == f"/cases/{register.h1.case_id}/"
