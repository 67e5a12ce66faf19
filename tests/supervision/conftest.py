"""Fixtures for the supervision tests: handoffs built through the real handoff services, then moved
to exact times with .update(), so that every figure has a hand-computed answer.

From the police's side (world.police supervises with world.lead_supervisor), T0 = 10 days ago, 09:00
in Viet Nam:

    H1 police → health     urgent    sent T0, viewed +30 min, accepted +2 h, first action +5 h,
                                     completed +24 h, due +12 h                      → met
    H2 police → health     standard  sent T0+1 d, viewed +4 h, declined +20 h, due +8 h → missed
    H3 police → social     emergency sent now−3 h, due now−2 h, unanswered, override  → missed, overdue
    H4 health → police     urgent    sent T0+2 d, accepted +1 h, police's first action +3 h,
                                     due +12 h                                       → met
    H5 police → health     urgent    sent T0−30 d, withdrawn +1 h, due +12 h          → void

Synthetic data only.
"""

import copy
import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from agencies.services import agency_create, membership_add
from cases.models import Action, Case
from cases.services import action_log
from handoffs.models import Handoff
from handoffs.services import (
    handoff_accept,
    handoff_complete,
    handoff_decline,
    handoff_view,
    handoff_withdraw,
)
from notifications.calendar import VIETNAM
from tests.cases.services_helpers import access_for, consent_data, handoff_send_through_edge, open_case, referral_data
from tests.conftest import World, make_user, world_in_bulk

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@dataclass
class Register:
    now: datetime.datetime
    t0: datetime.datetime
    social: object
    social_responder: object
    social_supervisor: object
    h1: Handoff
    h2: Handoff
    h3: Handoff
    h4: Handoff
    h5: Handoff


def t0_of(now: datetime.datetime) -> datetime.datetime:
    local = (now - 10 * DAY).astimezone(VIETNAM)
    return local.replace(hour=9, minute=0, second=0, microsecond=0)


def send(world, case, *, actor=None, **overrides) -> Handoff:
    actor = actor or world.lead_responder
    return handoff_send_through_edge(access=access_for(actor, case, "manage_sharing"), actor=actor,
                        data=referral_data(world, **overrides))


def act(user, case, *, at: datetime.datetime, text="Đã gọi điện hỏi thăm.") -> Action:
    action = action_log(access=access_for(user, case), actor=user, data={"type": "contact", "text": text})
    Action.objects.filter(pk=action.pk).update(occurred_at=at)
    return action


def set_times(handoff: Handoff, **times) -> Handoff:
    Handoff.objects.filter(pk=handoff.pk).update(**times)
    handoff.refresh_from_db()
    return handoff


# An emergency override's fields for `send` (the social agency takes no medical data without one).
OVERRIDE = {"emergency_override": True, "override_reason": "Nguy hiểm đến tính mạng, cần nơi tạm lánh ngay."}


def declined_then_sent_again(world, check) -> tuple[Case, Handoff, Handoff]:
    """A new case (medical data shared) sent to the health agency, viewed and declined there, then sent to it
    again, with `check()` after the first sending and after the decline: (case, declined, sent again)."""
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    first = send(world, case)
    check()
    handoff_view(user=world.receiving_responder, handoff_id=first.pk)
    handoff_decline(user=world.receiving_responder, handoff_id=first.pk, reason="Không đủ giường bệnh.")
    check()
    return case, first, send(world, case)


def copied_then_deleted(copied: Handoff, deleted: Handoff, check) -> None:
    """Behind the services' back: `copied` written again as a new row, then `deleted` deleted, with `check()`
    after each."""
    copy = Handoff.objects.get(pk=copied.pk)
    copy.pk = None
    copy.save()
    check()
    Handoff.objects.filter(pk=deleted.pk).delete()
    check()


def social_build(world):
    agency = agency_create(name="Trung tâm Công tác xã hội Hà Nội", sector="social_work", province=world.hanoi)
    responder, supervisor = make_user("social_responder"), make_user("social_supervisor")
    membership_add(user=responder, agency=agency, role="responder")
    membership_add(user=supervisor, agency=agency, role="supervisor")
    return agency, responder, supervisor


@dataclass
class Shared:
    world: World
    social: tuple
    register: Register


# A module whose tests only read the register (no transactional test) writes it once:
# `pytestmark = REGISTER_ONCE`. Its `world`, `social` and `register` are then copies of the module's,
# and each test's own writes are rolled back after it.
REGISTER_ONCE = [pytest.mark.django_db, pytest.mark.usefixtures("register_once")]


@pytest.fixture(scope="module")
def register_once(module_transaction, django_db_blocker) -> Shared:
    """world, social and register written once for the module, inside module_transaction (some 3 s of CPU
    a time, which each of the module's tests paid), rolled back after its last test."""
    with django_db_blocker.unblock():
        world = world_in_bulk()
        social = social_build(world)
        return Shared(world=world, social=social, register=register_build(world, social))


@pytest.fixture
def _shared_copy(request) -> Shared | None:
    if "register_once" not in request.fixturenames:
        return None
    return copy.deepcopy(request.getfixturevalue("register_once"))


@pytest.fixture
def world(db, _shared_copy) -> World:
    return _shared_copy.world if _shared_copy else world_in_bulk()


@pytest.fixture
def social(world, _shared_copy):
    return _shared_copy.social if _shared_copy else social_build(world)


@pytest.fixture
def register(world, social, _shared_copy) -> Register:
    return _shared_copy.register if _shared_copy else register_build(world, social)


def register_build(world, social) -> Register:
    social_agency, social_responder, social_supervisor = social
    now = timezone.now()
    t0 = t0_of(now)

    case1 = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    h1 = send(world, case1)
    handoff_view(user=world.receiving_responder, handoff_id=h1.pk)
    handoff_accept(user=world.receiving_responder, handoff_id=h1.pk)
    act(world.receiving_responder, case1, at=t0 + 5 * HOUR)
    act(world.receiving_responder, case1, at=t0 + 6 * HOUR)
    # The lead's own actions are not the receiving agency's first action.
    act(world.lead_responder, case1, at=t0 + 3 * HOUR)
    handoff_complete(user=world.receiving_responder, handoff_id=h1.pk, outcome="Đã khám và điều trị.")
    h1 = set_times(h1, sent_at=t0, viewed_at=t0 + HOUR / 2, responded_at=t0 + 2 * HOUR, due_at=t0 + 12 * HOUR,
                   completed_at=t0 + DAY)

    case2 = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    h2 = send(world, case2, urgency="standard")
    handoff_view(user=world.receiving_responder, handoff_id=h2.pk)
    handoff_decline(user=world.receiving_responder, handoff_id=h2.pk, reason="Không đủ giường bệnh.")
    t2 = t0 + DAY
    h2 = set_times(h2, sent_at=t2, viewed_at=t2 + 4 * HOUR, responded_at=t2 + 20 * HOUR, due_at=t2 + 8 * HOUR)

    case3 = open_case(world)
    h3 = send(world, case3, to_agency=social_agency, urgency="emergency", categories=["contact"],
              emergency_override=True, override_reason="Nguy hiểm đến tính mạng, cần nơi tạm lánh ngay.")
    h3 = set_times(h3, sent_at=now - 3 * HOUR, due_at=now - 2 * HOUR)

    case4 = open_case(world, actor=world.receiving_responder, agency=world.health,
                      consent=consent_data(world, receiving_agency=world.police, granted_categories=["police_legal"]))
    h4 = send(world, case4, actor=world.receiving_responder, to_agency=world.police, categories=["police_legal"])
    handoff_accept(user=world.lead_responder, handoff_id=h4.pk)
    t4 = t0 + 2 * DAY
    act(world.lead_responder, case4, at=t4 + 3 * HOUR)
    h4 = set_times(h4, sent_at=t4, viewed_at=t4 + HOUR, responded_at=t4 + HOUR, due_at=t4 + 12 * HOUR)

    case5 = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    h5 = send(world, case5)
    handoff_withdraw(user=world.lead_responder, handoff_id=h5.pk, reason="Gửi nhầm đơn vị.")
    t5 = t0 - 30 * DAY
    h5 = set_times(h5, sent_at=t5, withdrawn_at=t5 + HOUR, due_at=t5 + 12 * HOUR)
    # Cases were opened just now; open them before their handoffs, as in life.
    for case, at in ((case1, t0), (case2, t2), (case3, now - 3 * HOUR), (case4, t4), (case5, t5)):
        Case.objects.filter(pk=case.pk).update(created_at=at - HOUR)
    return Register(now=now, t0=t0, social=social_agency, social_responder=social_responder,
                    social_supervisor=social_supervisor, h1=h1, h2=h2, h3=h3, h4=h4, h5=h5)


def grant_break_glass(user):
    """The right, as a system administrator grants it: a group holding permissions.break_glass."""
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name="Break-glass")
    group.permissions.add(Permission.objects.get(content_type__app_label="permissions", codename="break_glass"))
    user.groups.add(group)
    # Django caches a user's permissions on the instance.
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
    return user


REASON = "Bệnh nhân cấp cứu bất tỉnh, cần biết tiền sử để điều trị ngay."


@pytest.fixture
def break_glass_use(world, register):
    """The outsider responder (a school in Huế) opens police's case 1 for medical data."""
    from cases.breakglass import break_glass_open

    grant_break_glass(world.outsider_responder)
    return break_glass_open(user=world.outsider_responder, case_number=register.h1.case.number, reason=REASON,
                            categories=["medical"])


@pytest.fixture
def consent_override(world, register):
    """An emergency consent override on police's case 3, waiting for review."""
    from tests.cases.services_helpers import consent_record_through_edge

    return consent_record_through_edge(
        access=access_for(world.lead_responder, register.h3.case, "manage_sharing"), actor=world.lead_responder,
        data=consent_data(world, receiving_agency=register.social, granted_categories=["contact"],
                          refused_categories=[], emergency_override=True,
                          override_reason="Nguy hiểm đến tính mạng, cần nơi tạm lánh ngay."),
    )
