"""Reads of the case-meeting app: who coordinates, the coordinator's list of cases awaiting a
meeting, the meetings a user may see, and what each agency may see of each case on an agenda.

Who is a coordinator (README, "Case meetings"): a supervisor of the agency they act for
(agencies.acting). The agency is the meeting's coordinating agency; in practice the commune's or
the district's lead agency (the People's Committee's social work officer, or the lead agency of
the cases on the list), which is the agency that sees those cases. Responders take part; they do
not schedule.

What an agency may see of a case on an agenda (`agency_case_categories`): nothing unless it may
see the case, through its access rows in force (permissions: the lead agency, an accepted
handoff), or a consent in force that covers it (by name, or by its sector within the case's
province) and grants it a category the survivor did not refuse (a consent that only refuses opens
nothing); then the general category and the data categories those rows and consents give, minus
every category the survivor refused. A user sees, of a meeting they may see, the union over their
agencies that take part in it. Only an agency invited to the meeting takes part: a consent lets the
coordinator invite it, never lets it reach a case on its own. The coordinator puts on the agenda only
a case its own access rows give it (`agency_case_rows`), as its case pages would.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from agencies.acting import acting_agency_pick
from agencies.models import Agency, Membership, Role
from cases.models import Consent
from cases.selectors import case_list_visible_to, viewing_rows
from config.compiled import CompiledModels
from config.exceptions import NotFound
from handoffs.models import Handoff, HandoffStatus
from notifications.models import Deadline
from permissions.access import codenames_from_masks
from permissions.categories import GENERAL, categories_from_codenames
from permissions.policy import CASE_ROLES
from permissions.readers import user_is_case_reader, user_may_be_case_reader
from risk.selectors import MeetingEligibility, cases_eligible_for_meeting

from .models import (
    CHAIR,
    COORDINATOR,
    MEETING_MACHINE,
    MINUTES_MACHINE,
    OWNER,
    OWNER_OR_COORDINATOR,
    PLAN_ITEM_MACHINE,
    RUNNER,
    TAKING_PART,
    ActionPlanItem,
    CaseMeeting,
    Contribution,
    MeetingCase,
    MeetingInvitation,
    MeetingMinutes,
    MeetingStatus,
    MinutesDecision,
    MinutesStatus,
    PlanItemStatus,
)


def meeting_path(meeting_id: int) -> str:
    return f"/meetings/{meeting_id}/"


def plan_item_subject(item_id: int) -> str:
    return f"plan_item:{item_id}"


def _user_case_agency_ids(user: User) -> set[int]:
    if not user_may_be_case_reader(user):
        return set()
    return set(Membership.objects.filter(user=user, role__in=CASE_ROLES, agency__active=True)
               .values_list("agency_id", flat=True))


def coordinator_agency_for(user: User) -> Agency | None:
    """The agency the user coordinates meetings for: the one they act for, when they are its
    supervisor and a case reader; None otherwise (responders, analysts, admins, anonymous)."""
    if not user_may_be_case_reader(user):
        return None
    rows = dict(Membership.objects.filter(user=user, role__in=CASE_ROLES, agency__active=True)
                .values_list("agency_id", "role"))
    acting = acting_agency_pick(member_agency_ids=rows)
    if acting is None or rows.get(acting) != Role.SUPERVISOR or not user_is_case_reader(user):
        return None
    return Agency.objects.get(pk=acting)


# --- What each agency may see of a case -----------------------------------------------------------


def agency_case_rows(*, case_ids, agency_ids, now: datetime.datetime | None = None
                     ) -> dict[tuple[int, int], set[str]]:
    """{(case id, agency id): GENERAL and the categories the agency's access rows in force give} for the
    pairs where those rows let the agency view the case (the lead agency, an accepted handoff). One query."""
    result: dict[tuple[int, int], set[str]] = {}
    rows = (viewing_rows(now=now).filter(case_id__in=case_ids, agency_id__in=agency_ids)
            .order_by().values_list("case_id", "agency_id", "rights", "categories"))
    for case_id, agency_id, rights, categories in rows:
        result.setdefault((case_id, agency_id), {GENERAL}).update(
            categories_from_codenames(codenames_from_masks(rights, categories)))
    return result


def agency_case_categories(*, case_ids, agency_ids, now: datetime.datetime | None = None
                           ) -> dict[tuple[int, int], frozenset[str]]:
    """{(case id, agency id): the categories the agency may see of the case, GENERAL included} for
    the pairs where the agency may see the case at all (module docstring). Three queries."""
    now = now or timezone.now()
    case_ids, agency_ids = list(case_ids), list(agency_ids)
    if not case_ids or not agency_ids:
        return {}
    result = agency_case_rows(case_ids=case_ids, agency_ids=agency_ids, now=now)
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=agency_ids).only("pk", "sector", "province_id")}
    refused: dict[tuple[int, int], set[str]] = defaultdict(set)
    granted_by: dict[tuple[int, int], set[str]] = defaultdict(set)
    consents = (Consent.objects.in_force(now).filter(case_id__in=case_ids)
                .filter(Q(receiving_agency_id__in=agency_ids)
                        | Q(receiving_sector__in={a.sector for a in agencies.values()}))
                .order_by().values_list("case_id", "case__province_id", "receiving_agency_id", "receiving_sector",
                                        "granted_categories", "refused_categories"))
    for case_id, province_id, agency_id, sector, granted, refuses in consents:
        covered = [agency_id] if agency_id else [a.pk for a in agencies.values()
                                                 if a.sector == sector and a.province_id == province_id]
        for covered_id in covered:
            granted_by[(case_id, covered_id)].update(granted or ())
            refused[(case_id, covered_id)].update(refuses or ())
    for key, granted in granted_by.items():
        # A consent opens the case only where it grants something not refused.
        if key in result or granted - refused[key]:
            result.setdefault(key, {GENERAL}).update(granted)
    return {key: frozenset(cats - refused[key]) for key, cats in result.items()}


# --- The coordinator's list --------------------------------------------------------------------------


def cases_on_scheduled_meetings(case_ids) -> set[int]:
    return set(MeetingCase.objects.filter(case_id__in=list(case_ids), meeting__status=MeetingStatus.SCHEDULED)
               .values_list("case_id", flat=True))


def cases_awaiting_meeting(*, user: User, today: datetime.date | None = None) -> list[MeetingEligibility]:
    """The coordinator's list: of the cases the user may see, those eligible for a meeting
    (risk.selectors.cases_eligible_for_meeting, with the reasons) that are on no scheduled meeting.
    Empty for anyone who is not a coordinator."""
    if coordinator_agency_for(user) is None:
        return []
    rows = cases_eligible_for_meeting(cases=case_list_visible_to(user=user), today=today)
    scheduled = cases_on_scheduled_meetings(row.case.pk for row in rows)
    return [row for row in rows if row.case.pk not in scheduled]


def last_meeting_dates(case_ids) -> dict[int, datetime.date]:
    """risk.hooks' provider: {case id: the day of its last meeting held}, one query."""
    rows = (MeetingCase.objects.filter(case_id__in=list(case_ids), meeting__status=MeetingStatus.HELD)
            .values("case_id").annotate(last=Max("meeting__held_on")).order_by())
    return {row["case_id"]: row["last"] for row in rows}


# --- Meetings for a user -------------------------------------------------------------------------------


def meeting_list_for_user(*, user: User) -> QuerySet[CaseMeeting]:
    """Meetings of the user's agencies: those they coordinate and those they are invited to."""
    agency_ids = _user_case_agency_ids(user)
    if not agency_ids:
        return CaseMeeting.objects.none()
    invited = MeetingInvitation.objects.filter(agency_id__in=agency_ids).values("meeting_id")
    return (CaseMeeting.objects.filter(Q(coordinator_agency_id__in=agency_ids) | Q(pk__in=invited))
            .select_related("coordinator_agency", "chair").order_by("-scheduled_for", "-id"))


@dataclass
class MeetingAccess:
    """What one user may see and do of one meeting. `agency_ids`: the user's agencies that take
    part (the coordinating one, invited ones); `acting`: the one they act for, when it takes part;
    `visible`: {case id: categories} of the agenda's cases the user may see (module docstring)."""

    meeting: CaseMeeting
    user: User
    agency_ids: frozenset[int]
    acting: Agency | None
    is_coordinator: bool
    is_chair: bool
    visible: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def may_run(self) -> bool:
        """The chair, or a supervisor of the coordinating agency acting for it."""
        return self.is_chair or self.is_coordinator

    @property
    def reads_reasons(self) -> bool:
        """Whether the user reads the reasons typed about the meeting (why it was cancelled, why its minutes
        were corrected): those who run it only. A reason may name the survivor of any agenda case, so it
        fits no one case's sight; those who run the meeting are the people who typed it (the coordinating
        agency's supervisors and its chair), so it tells them nothing new, while an invited agency that lost
        a case would read what was typed about it afterwards."""
        return self.may_run

    def may(self, right: str) -> bool:
        """Whether the user holds a right of the meeting machine or the minutes machine
        (conferences.models.MEETING_MACHINE, MINUTES_MACHINE)."""
        return {COORDINATOR: self.is_coordinator, RUNNER: self.may_run, TAKING_PART: True, CHAIR: self.is_chair}[right]

    def sees(self, case_id: int, category: str = GENERAL) -> bool:
        return category in self.visible.get(case_id, frozenset())


def meeting_actions(*, access: MeetingAccess, latest: MeetingMinutes | None) -> list[str]:
    """What the user may do with the meeting now, given the latest version of its minutes (None before it
    is held): the meeting machine's actions and the minutes machine's; "decide" needs both. The page's
    buttons, the API's allowed_actions."""
    minutes = MINUTES_MACHINE.available(latest, may=access.may) if latest is not None else []
    meeting = [action for action in MEETING_MACHINE.available(access.meeting, may=access.may)
               if action != "decide" or action in minutes]
    return meeting + [action for action in minutes if action not in meeting and action != "decide"]


def meeting_get_for_user(*, user: User, meeting_id: int, lock: bool = False) -> MeetingAccess:
    """The meeting for a user of its coordinating or invited agencies, or NotFound (a meeting an
    agency is not invited to does not exist for it)."""
    agency_ids = _user_case_agency_ids(user)
    if not agency_ids or isinstance(meeting_id, bool) or not isinstance(meeting_id, int):
        raise NotFound
    qs = CaseMeeting.objects.select_related("coordinator_agency", "chair")
    if lock:
        qs = qs.select_for_update(of=("self",))
    meeting = qs.filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound
    invited = set(MeetingInvitation.objects.filter(meeting=meeting).values_list("agency_id", flat=True))
    taking_part = agency_ids & (invited | {meeting.coordinator_agency_id})
    if not taking_part or not user_is_case_reader(user):
        raise NotFound
    acting_id = acting_agency_pick(member_agency_ids=agency_ids)
    acting = None
    if acting_id in taking_part:
        acting = meeting.coordinator_agency if acting_id == meeting.coordinator_agency_id else Agency.objects.get(
            pk=acting_id)
    is_coordinator = (acting_id == meeting.coordinator_agency_id and Membership.objects.filter(
        user=user, agency_id=acting_id, role=Role.SUPERVISOR).exists())
    case_ids = list(MeetingCase.objects.filter(meeting=meeting).values_list("case_id", flat=True))
    visible: dict[int, set[str]] = {}
    for (case_id, _agency_id), cats in agency_case_categories(case_ids=case_ids, agency_ids=taking_part).items():
        visible.setdefault(case_id, set()).update(cats)
    return MeetingAccess(meeting=meeting, user=user, agency_ids=frozenset(taking_part), acting=acting,
                         is_coordinator=is_coordinator, is_chair=meeting.chair_id == user.pk,
                         visible={k: frozenset(v) for k, v in visible.items()})


def meeting_invitations(*, meeting: CaseMeeting) -> list[MeetingInvitation]:
    return list(MeetingInvitation.objects.filter(meeting=meeting).select_related("agency").order_by("agency__name"))


def meeting_agenda_visible(*, access: MeetingAccess) -> list[MeetingCase]:
    """The agenda's cases the user may see, with their case and lead agency."""
    return [row for row in MeetingCase.objects.filter(meeting=access.meeting).select_related(
        "case", "case__lead_agency", "case__data_key").order_by("id") if row.case_id in access.visible]


def contributions_visible(*, access: MeetingAccess) -> list[Contribution]:
    """The meeting's contributions the user may see: of cases they see, in categories they see."""
    rows = (Contribution.objects.filter(meeting_case__meeting=access.meeting, case_id__in=list(access.visible))
            .select_related("agency", "author", "case__data_key").order_by("created_at", "id"))
    return [row for row in rows if access.sees(row.case_id, row.category)]


def minutes_latest(*, meeting: CaseMeeting) -> MeetingMinutes | None:
    return (MeetingMinutes.objects.filter(meeting=meeting).select_related("written_by", "signed_by")
            .order_by("-version").first())


def minutes_versions(*, meeting: CaseMeeting) -> list[MeetingMinutes]:
    return list(MeetingMinutes.objects.filter(meeting=meeting).select_related("written_by", "signed_by")
                .order_by("version"))


def decisions_visible(*, access: MeetingAccess, minutes: MeetingMinutes | None) -> list[MinutesDecision]:
    if minutes is None:
        return []
    return list(MinutesDecision.objects.filter(minutes=minutes, case_id__in=list(access.visible))
                .select_related("case", "case__data_key").order_by("id"))


def plan_items_visible(*, access: MeetingAccess) -> list[ActionPlanItem]:
    return list(ActionPlanItem.objects.filter(meeting_case__meeting=access.meeting, case_id__in=list(access.visible))
                .select_related("owner_agency", "owner_user", "case", "case__data_key", "meeting_case__meeting")
                .order_by("due_at", "id"))


def meeting_has_signed_minutes(meeting: CaseMeeting) -> bool:
    return MeetingMinutes.objects.filter(meeting=meeting, status=MinutesStatus.SIGNED).exists()


# --- Whom to invite ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitableAgency:
    agency: Agency
    why: tuple[str, ...]  # "handoff" and/or "consent"
    # {case id: the categories it may see of that case}, for the agenda's cases.
    categories: dict[int, frozenset[str]]


def agencies_invitable(*, access: MeetingAccess) -> list[InvitableAgency]:
    """The agencies the agenda's cases were handed to (sent or accepted) or that a consent in force
    covers (by name, or by sector within the case's province), with what each may see of each case:
    of the agenda's cases the coordinating agency's own access rows let it see now (as for adding a case to
    the agenda), so a case the coordinator lost (its consent withdrawn or ended, its handoff over) tells it
    nothing of whom it was handed to or whose consent covers it, and lets it invite no one; not even
    through another agency the person also works for (`access.visible` is the person's). One query more."""
    meeting = access.meeting
    coordinator = meeting.coordinator_agency_id
    case_ids = sorted(case_id for case_id, _agency_id in agency_case_rows(case_ids=sorted(access.visible),
                                                                         agency_ids=[coordinator]))
    if not case_ids:
        return []
    why: dict[int, set[str]] = defaultdict(set)
    handed = (HandoffStatus.SENT, HandoffStatus.ACCEPTED, HandoffStatus.COMPLETED)
    # Only the coordinating agency's own handoffs, sent or received: another agency's referral of the same
    # case is not its business (handoffs.selectors.handoff_list_for_case).
    for from_id, to_id in (Handoff.objects.filter(case_id__in=case_ids, status__in=handed)
                           .filter(Q(from_agency_id=coordinator) | Q(to_agency_id=coordinator))
                           .values_list("from_agency_id", "to_agency_id")):
        why[to_id if from_id == coordinator else from_id].add("handoff")
    consents = Consent.objects.in_force().filter(case_id__in=case_ids).values_list(
        "case__province_id", "receiving_agency_id", "receiving_sector")
    sectors: set[tuple[int, str]] = set()
    for province_id, agency_id, sector in consents:
        if agency_id:
            why[agency_id].add("consent")
        elif sector:
            sectors.add((province_id, sector))
    if sectors:
        condition = Q()
        for province_id, sector in sectors:
            condition |= Q(province_id=province_id, sector=sector)
        for agency_id in Agency.objects.filter(condition, active=True).values_list("pk", flat=True):
            why[agency_id].add("consent")
    why.pop(meeting.coordinator_agency_id, None)
    categories = agency_case_categories(case_ids=case_ids, agency_ids=list(why))
    agencies = Agency.objects.filter(pk__in=list(why), active=True).order_by("name", "pk")
    return [InvitableAgency(agency=agency, why=tuple(sorted(why[agency.pk])),
                            categories={case_id: cats for (case_id, agency_id), cats in categories.items()
                                        if agency_id == agency.pk})
            for agency in agencies]


# --- Plan items -----------------------------------------------------------------------------------------


def _plan_items_of(case_id: int) -> QuerySet[ActionPlanItem]:
    return (ActionPlanItem.objects.filter(case_id=case_id).select_related(
        "owner_agency", "owner_user", "meeting_case__meeting", "case__data_key")
        .order_by(F("finished_at").asc(nulls_first=True), "due_at", "id"))


_PLAN_ITEMS = CompiledModels(_plan_items_of, case_id="int")


def plan_items_for_case(*, case_id: int) -> list[ActionPlanItem]:
    """The case's plan (every meeting), open items first by due date (a query compiled once). Who may
    see the case was decided by the caller (the case page's access): plan items are coordination facts
    of the case."""
    return _PLAN_ITEMS.objects(case_id=case_id, model=ActionPlanItem)


def _case_seen_by(agency_ids: set[int]) -> Exists:
    """The plan item's case is one these agencies may see now (an access row in force with the view
    right): an agency that lost the case (consent withdrawn, a handoff ended, the lead moved) no
    longer sees its plan items either, whose action is case content."""
    return Exists(viewing_rows().filter(case_id=OuterRef("case_id"), agency_id__in=agency_ids))


def plan_items_for_user(*, user: User) -> QuerySet[ActionPlanItem]:
    """The open plan items of the user's agencies (theirs first), of cases the agency may see."""
    agency_ids = _user_case_agency_ids(user)
    if not agency_ids:
        return ActionPlanItem.objects.none()
    return (ActionPlanItem.objects.filter(_case_seen_by(agency_ids), owner_agency_id__in=agency_ids,
                                          status=PlanItemStatus.OPEN)
            .select_related("owner_agency", "owner_user", "case", "case__data_key",
                            "meeting_case__meeting").order_by("due_at", "id"))


def plan_item_get_for_user(*, user: User, item_id: int, lock: bool = False) -> ActionPlanItem:
    """One plan item for a member of its owner agency or of the meeting's coordinating agency whose
    agencies may still see the case, or NotFound."""
    agency_ids = _user_case_agency_ids(user)
    if not agency_ids or isinstance(item_id, bool) or not isinstance(item_id, int) or not user_is_case_reader(user):
        raise NotFound
    qs = ActionPlanItem.objects.select_related("owner_agency", "owner_user", "case", "case__data_key",
                                               "meeting_case__meeting__coordinator_agency")
    if lock:
        qs = qs.select_for_update(of=("self",))
    item = qs.filter(Q(owner_agency_id__in=agency_ids)
                     | Q(meeting_case__meeting__coordinator_agency_id__in=agency_ids),
                     _case_seen_by(agency_ids), pk=item_id).first()
    if item is None:
        raise NotFound
    return item


def plan_item_roles(*, user: User) -> frozenset[tuple[int, str]]:
    """The (agency id, role) pairs of the user's case roles in active agencies, which the plan item
    machine's rights are read from (plan_item_rights): one query for any number of items."""
    return frozenset(Membership.objects.filter(user=user, user__is_active=True, agency__active=True,
                                               role__in=CASE_ROLES).values_list("agency_id", "role"))


def plan_item_rights(*, user: User, item: ActionPlanItem,
                     roles: frozenset[tuple[int, str]] | None = None) -> dict[str, bool]:
    """The user's rights of the plan item machine: a member (responder, supervisor) of the owner agency,
    a supervisor of the meeting's coordinating agency. One query, none with the user's `roles`."""
    coordinator_id = item.meeting_case.meeting.coordinator_agency_id
    roles = plan_item_roles(user=user) if roles is None else roles
    coordinator = (coordinator_id, Role.SUPERVISOR) in roles
    owner = any(agency_id == item.owner_agency_id for agency_id, _role in roles)
    return {OWNER: owner, COORDINATOR: coordinator, OWNER_OR_COORDINATOR: owner or coordinator}


def plan_item_actions(*, user: User, item: ActionPlanItem,
                      roles: frozenset[tuple[int, str]] | None = None) -> list[str]:
    """What the user may do with the plan item now: the buttons of its page, the API's allowed_actions."""
    rights = plan_item_rights(user=user, item=item, roles=roles)
    return PLAN_ITEM_MACHINE.available(item, may=lambda right: rights[right])


def plan_item_overdue(item: ActionPlanItem, now: datetime.datetime | None = None) -> bool:
    return item.status == PlanItemStatus.OPEN and item.due_at < (now or timezone.now())


def plan_item_deadline(item: ActionPlanItem) -> Deadline | None:
    return Deadline.objects.filter(subject=plan_item_subject(item.pk), kind=Deadline.Kind.ACTION_PLAN).first()


def agency_members(*, agency_id: int) -> QuerySet[User]:
    """The agency's active responders and supervisors (owners a plan item may name)."""
    return (User.objects.filter(memberships__agency_id=agency_id, memberships__role__in=CASE_ROLES, is_active=True)
            .order_by("username").distinct())

