"""Handoffs, read: a user's incoming and outgoing lists, one handoff with the reader's side of it
(404 for anyone outside the two agencies), what that side may do next, its timeline, the agencies a
case may be sent to with the categories their consents allow. No writes: those are
handoffs.services."""

import datetime
import functools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import User
from django.db import connections, router
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.types.numeric import Int8

from agencies.acting import acting_agency_pick
from agencies.models import Agency, Membership
from cases.models import Case, CaseEvent, CaseEventType, Consent, Incident, TechForm
from cases.selectors import viewing_rows
from cases.timeline import RENDERERS, TimelineEntry
from config.compiled import CompiledModels, CompiledQuery
from config.exceptions import NotFound, row_id_or_not_found
from handoffs.models import HANDOFF_MACHINE, Handoff, HandoffStatus, Urgency
from handoffs.sharing import handoff_acceptance_opens_case
from permissions.categories import GENERAL
from permissions.policy import CASE_ROLES

# The subject of a handoff's response deadline ("handoff:<id>"): it closes with the handoff's answer.
HANDOFF_SUBJECT_PREFIX = "handoff:"


def handoff_deadline_subject(handoff_id: int) -> str:
    return f"{HANDOFF_SUBJECT_PREFIX}{handoff_id}"


def handoff_path(handoff_id: int) -> str:
    """Where a handoff is read: notifications carry this path, never case content."""
    return f"/handoffs/{handoff_id}/"


@dataclass(frozen=True)
class HandoffAccess:
    handoff: Handoff
    # "sender" for members of the sending agency, "receiver" for members of the receiving one.
    side: str
    agency: Agency
    # Whether the user acts for `agency` (agencies.acting): a person of several agencies answers or
    # withdraws a handoff only while acting for its side; None when they must choose first.
    acting: bool | None = True

    @property
    def is_receiver(self) -> bool:
        return self.side == "receiver"

    @property
    def is_sender(self) -> bool:
        return self.side == "sender"

    @functools.cached_property
    def sees_message(self) -> bool:
        """The sender's words, its message and an emergency override's written reason (the danger the
        survivor is in), may carry case details. The sender reads them. The receiver reads them only
        while the handoff lets it see the case: waiting, while accepting would open the case to it (the
        triage preview's rule, handoff_acceptance_opens_case); accepted, while an access row in force lets
        its agency see the case (a consent withdrawn takes it away at once, as it takes the case); never
        after a decline, a withdrawal or the completion."""
        handoff = self.handoff
        if self.is_sender:
            return True
        if handoff.status == HandoffStatus.SENT:
            return handoff_acceptance_opens_case(handoff=handoff)
        if handoff.status == HandoffStatus.ACCEPTED:
            return viewing_rows().filter(case_id=handoff.case_id, agency_id=handoff.to_agency_id).exists()
        return False

    @property
    def message(self) -> str:
        """The sender's message as this side may read it (sees_message): empty when withheld."""
        return self.handoff.message if self.sees_message else ""

    @property
    def override_reason(self) -> str:
        """The emergency override's written reason as this side may read it (sees_message): empty when
        withheld, as for a handoff sent without an override."""
        return self.handoff.override_reason if self.sees_message else ""


def handoff_read_by_agency(*, handoff: Handoff, agency: Agency) -> HandoffAccess:
    """The handoff as the agency on one of its sides reads it (a supervisor's pages read it for the agency
    they supervise): its side, and no action, since reading for an agency is not acting for it."""
    side = "sender" if handoff.from_agency_id == agency.pk else "receiver"
    return HandoffAccess(handoff, side, agency, acting=False)


def _case_agencies_of(user_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user_id, role__in=CASE_ROLES, agency__active=True)


# The agencies whose handoffs a user handles: one compiled query (config.compiled) per request.
_CASE_AGENCY_IDS = CompiledQuery(lambda user_id: _case_agencies_of(user_id).values_list("agency_id"), user_id="int")


def _case_agency_ids(user: User) -> set[int]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return {agency_id for (agency_id,) in _CASE_AGENCY_IDS.rows(model=Membership, user_id=user.pk)}


def _handoffs_of(agency_ids, *, direction: str, status: str | None) -> QuerySet[Handoff]:
    field = "to_agency_id__in" if direction == "incoming" else "from_agency_id__in"
    qs = Handoff.objects.filter(**{field: agency_ids})
    if status is not None:
        qs = qs.filter(status=status)
    return qs.order_by("-sent_at", "-id")


def handoff_list_for_user(*, user: User, direction: str = "incoming", status: str | None = None) -> QuerySet[Handoff]:
    """Handoffs to (incoming) or from (outgoing) the user's agencies, newest first; of one status
    when given."""
    return _handoffs_of(_case_agency_ids(user), direction=direction, status=status).select_related(
        "case", "from_agency", "to_agency")


_STATUS_LABELS = dict(HandoffStatus.choices)
_URGENCY_LABELS = dict(Urgency.choices)


class HandoffCard:
    """A handoff as the incoming and outgoing pages show it (handoffs/_handoff_cards.html), read as
    one row of columns; its attributes are those of a Handoff of handoff_list_for_user for what the
    cards read."""

    __slots__ = ("pk", "id", "status", "urgency", "sent_at", "due_at", "case", "from_agency", "to_agency", "overdue",
                 "_labels", "_path")

    def __init__(self, row: tuple, labels: tuple[dict[str, str], dict[str, str]], path: str):
        (self.id, case_number, self.status, self.urgency, from_name, to_name, self.sent_at, self.due_at) = row
        self.pk = self.id
        self.case = SimpleNamespace(number=case_number)
        self.from_agency = SimpleNamespace(name=from_name)
        self.to_agency = SimpleNamespace(name=to_name)
        self.overdue = False
        self._labels, self._path = labels, path

    def get_status_display(self) -> str:
        return self._labels[0][self.status]

    def get_urgency_display(self) -> str:
        return self._labels[1][self.urgency]

    @property
    def page_url(self) -> str:
        return f"{self._path}{self.pk}/"


_CARD_COLUMNS = ("id", "case__number", "status", "urgency", "from_agency__name", "to_agency__name", "sent_at",
                 "due_at")


@functools.cache
def _card_queries(direction: str, agencies: int, by_status: bool) -> tuple[CompiledQuery, CompiledQuery]:
    """(ids in the list's order, ids) of the list of `agencies` agencies in one direction, of one status
    when `by_status`: compiled once per process for each shape (config.compiled)."""
    names = [f"agency_{index}" for index in range(agencies)]
    kinds = {**dict.fromkeys(names, "int"), **({"status": "str"} if by_status else {})}

    def handoffs(values) -> QuerySet[Handoff]:
        return _handoffs_of([values[name] for name in names], direction=direction, status=values.get("status"))

    return (CompiledQuery(lambda **values: handoffs(values).values_list("id"), **kinds),
            CompiledQuery(lambda **values: handoffs(values).order_by().values_list("id"), **kinds))


# One handoff's card columns, for the handoffs of a page once its ids are known (_page_of_cards).
_CARD_OF = CompiledQuery(
    lambda handoff_id: Handoff.objects.filter(pk=handoff_id).order_by().values_list(*_CARD_COLUMNS), handoff_id="int")


@functools.cache
def _page_of_cards(using: str) -> str:
    """SQL that reads a page of cards from the SQL of the list's ids in order (its "%s"): the page's ids
    first, from the list's index (LIMIT and OFFSET are its two parameters after the list's), then the
    columns of those handoffs alone. Written as one query, PostgreSQL may join the case and both agencies
    to every handoff of the agency before sorting them (its estimate of an agency's handoffs is an average
    one: a busy agency has hundreds of times more)."""
    card, slots = _CARD_OF.sql_with(using, handoff_id="p.id")
    if slots:
        raise ValueError("a card's query has parameters other than its handoff")
    # SQL the ORM compiled; the handoff is the page's id, every value a parameter.
    return (f"SELECT r.* FROM (%s LIMIT %%s OFFSET %%s) p CROSS JOIN LATERAL ({card.replace('%', '%%')}) r "  # noqa: S608
            f"ORDER BY r.sent_at DESC, r.id DESC")


class HandoffCards:
    """handoff_list_for_user's list as its pages' Paginator reads it (count, slices): on PostgreSQL
    each slice is one compiled query of the columns the cards show (HandoffCard) and the count one of
    the handoff rows alone; elsewhere the ORM reads the same columns."""

    ordered = True

    def __init__(self, *, agency_ids: set[int], direction: str, status: str | None = None,
                 read: tuple[int, int, list[tuple]] | None = None, count_up_to: int | None = None):
        """`read`: (count, offset, rows) of this list, already read together (handoff_cards_for_user),
        the count up to `count_up_to` handoffs when it is given (config.pages.BoundedPaginator's bound)."""
        self._list = (agency_ids, direction, status)
        self._compiled = connections[router.db_for_read(Handoff)].vendor == "postgresql"
        self._values: dict[str, Any] = {
            f"agency_{index}": agency_id for index, agency_id in enumerate(sorted(agency_ids))}
        if status is not None:
            self._values["status"] = status
        self._read = read
        self._read_count_up_to = count_up_to

    def of_status(self, status: str) -> "HandoffCards":
        agency_ids, direction, _status = self._list
        return HandoffCards(agency_ids=agency_ids, direction=direction, status=status)

    def _queries(self) -> tuple[CompiledQuery, CompiledQuery]:
        agency_ids, direction, status = self._list
        return _card_queries(direction, len(agency_ids), status is not None)

    def _handoffs(self) -> QuerySet[Handoff]:
        agency_ids, direction, status = self._list
        return _handoffs_of(agency_ids, direction=direction, status=status)

    def count(self) -> int:
        return self.count_up_to(None)

    def count_up_to(self, bound: int | None) -> int:
        """How many handoffs the list has, `bound` at most (None: all); config.pages.BoundedPaginator's count."""
        if self._read is not None and self._read_count_up_to == bound:
            return self._read[0]
        if not self._compiled:
            handoffs = self._handoffs()
            return (handoffs if bound is None else handoffs[:bound]).count()
        ((count,),) = self._queries()[1].rows(wrap="SELECT COUNT(*) FROM (%s LIMIT %%s) counted", extra=(bound,),
                                              model=Handoff, **self._values)
        return count

    def __getitem__(self, index: slice) -> list[HandoffCard]:
        start, stop = index.start or 0, index.stop
        if stop <= start:
            return []
        if self._read is not None and start == self._read[1] and stop - start <= PAGE_READ_AHEAD:
            rows = self._read[2][:stop - start]
        elif self._compiled:
            wrap = _page_of_cards(router.db_for_read(Handoff))
            rows = self._queries()[0].rows(wrap=wrap, extra=(stop - start, start), model=Handoff, **self._values)
        else:
            rows = list(self._handoffs().values_list(*_CARD_COLUMNS)[start:stop])
        # Each label translated once for the page, not once a card.
        labels = ({value: str(label) for value, label in _STATUS_LABELS.items()},
                  {value: str(label) for value, label in _URGENCY_LABELS.items()})
        path = _page_path(get_script_prefix(), get_urlconf())
        return [HandoffCard(row, labels, path) for row in rows]


@functools.lru_cache(maxsize=8)
def _page_path(script_prefix: str, urlconf) -> str:
    """What a handoff's page path is before its id, reversed once per process (and script prefix and
    URLconf): a card's link is this and its id."""
    return reverse("handoffs:detail", kwargs={"handoff_id": 0}, urlconf=urlconf).removesuffix("0/")


# The most cards a page reads (handoffs.views.PER_PAGE): what handoff_cards_for_user reads ahead.
PAGE_READ_AHEAD = 20


def handoff_cards_for_user(*, user: User, direction: str, offset: int | None = None,
                           count_up_to: int | None = None) -> HandoffCards | None:
    """The incoming or outgoing page's list (handoff_list_for_user's, read as HandoffCards), or None
    for a user who has no handoff lists (handoff_user_may_handle).

    `offset`: where the page the caller will read starts (up to PAGE_READ_AHEAD cards). On PostgreSQL the
    user's agencies, the list's count (up to `count_up_to` handoffs when it is given) and those cards are
    then one statement when the user has one agency (almost everyone: otherwise the cards are read as
    without it)."""
    if offset is not None and offset >= 0 and connections[router.db_for_read(Membership)].vendor == "postgresql":
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return None
        agency_ids, read = _agencies_and_first_page(user, direction, offset, count_up_to)
        return (HandoffCards(agency_ids=agency_ids, direction=direction, read=read, count_up_to=count_up_to)
                if agency_ids else None)
    agency_ids = _case_agency_ids(user)
    return HandoffCards(agency_ids=agency_ids, direction=direction) if agency_ids else None


@functools.cache
def _one_agency_page_sql(using: str, direction: str) -> tuple[str, tuple, tuple, tuple]:
    """The statement of _agencies_and_first_page and the slots of its three parts' parameters."""
    agencies, agencies_slots = _CASE_AGENCY_IDS.sql(using)
    ordered_query, ids_query = _card_queries(direction, 1, False)
    # The list of one agency with its agency taken from the user's agencies read in the same statement.
    ordered, rows_slots = ordered_query.sql_with(using, agency_0="m.ids[1]")
    rows = _page_of_cards(using) % ordered
    ids, ids_slots = ids_query.sql_with(using, agency_0="m.ids[1]")
    # SQL the ORM compiled; every value is a parameter. One agency or nothing is read: the lateral parts
    # run only under their one-time condition. The count stops at its LIMIT (the pager's bound; NULL: none).
    sql = (f"SELECT m.ids, c.n, l.* FROM (SELECT ARRAY({agencies}) ids OFFSET 0) m "  # noqa: S608
           f"LEFT JOIN LATERAL (SELECT COUNT(*) n FROM ({ids} LIMIT %s) x WHERE cardinality(m.ids) = 1) c ON true "
           f"LEFT JOIN LATERAL (SELECT * FROM ({rows}) r "
           f"WHERE cardinality(m.ids) = 1) l ON true")
    return sql, agencies_slots, ids_slots, rows_slots


def _agencies_and_first_page(user: User, direction: str, offset: int,
                             count_up_to: int | None = None) -> tuple[set[int], tuple | None]:
    """The user's case agencies and, when there is one, (count up to `count_up_to`, offset, rows) of its
    list in `direction` from `offset` (PAGE_READ_AHEAD rows at most): one statement."""
    using = router.db_for_read(Membership)
    sql, agencies_slots, ids_slots, rows_slots = _one_agency_page_sql(using, direction)
    params = [*CompiledQuery.params_of(agencies_slots, user_id=user.pk), *CompiledQuery.params_of(ids_slots),
              count_up_to, *CompiledQuery.params_of(rows_slots), PAGE_READ_AHEAD, offset]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    agency_ids = set(found[0][0])
    if len(agency_ids) != 1:
        return agency_ids, None
    return agency_ids, (found[0][1], offset, [row[2:] for row in found if row[2] is not None])


def handoff_user_may_handle(*, user: User) -> bool:
    """Whether the user works on cases (responder or supervisor of an active agency): only they
    have handoff lists; analysts and agency admins never see a case."""
    return bool(_case_agency_ids(user))


# What reading one handoff joins: the case with its key (the message and reasons open without a query),
# both agencies and the two people its page and the API name. Each join more costs PostgreSQL's planner
# more than the row it reads (all ten: ~2.3 ms of CPU, these six: ~0.9 ms); the services' locked read
# also brings what they change or pass on.
_READ_RELATED = ("case", "case__data_key", "from_agency", "to_agency", "sent_by", "viewed_by")
_LOCKED_RELATED = (*_READ_RELATED, "case__lead_agency", "responded_by", "closed_by")


def _handoff_of_member(handoff_id: int, user_id: int) -> QuerySet[Handoff]:
    agencies = _case_agencies_of(user_id).order_by().values("agency_id")
    return (Handoff.objects.select_related(*_READ_RELATED)
            .filter(Q(to_agency_id__in=agencies) | Q(from_agency_id__in=agencies), pk=handoff_id).order_by())


# An unlocked read of a handoff in one compiled statement (config.compiled): the handoff with its joins,
# found only through an agency of the reader's, followed by those agencies (to know the reader's side).
# The ORM built and compiled the six joins anew at every read, and the agencies were a statement more.
_HANDOFF_OF_MEMBER = CompiledModels(_handoff_of_member, handoff_id="int", user_id="int")


@functools.cache
def _with_agencies(using: str) -> str:
    """The wrap that puts the user's case agencies (an array) after the handoff's columns."""
    sql, slots = _CASE_AGENCY_IDS.sql(using)
    if [name for name, _constant in slots if name] != ["user_id"]:
        raise ValueError("the agencies' query takes the user once")
    # SQL the ORM compiled, every value a parameter; its slots go after the handoff's (CompiledQuery.rows).
    return "SELECT h.*, m.ids FROM (%s) h, (SELECT ARRAY(" + sql.replace("%", "%%") + ") ids) m"  # noqa: S608


def _handoff_and_agencies(user: User, handoff_id) -> tuple[Handoff, set[int]]:
    """The handoff, unlocked, and the user's case agencies (_case_agency_ids), or NotFound: one
    statement on PostgreSQL, two elsewhere."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise NotFound
    handoff_id = row_id_or_not_found(handoff_id)
    using = router.db_for_read(Membership)
    if connections[using].vendor != "postgresql":
        found = _HANDOFF_OF_MEMBER.objects(handoff_id=handoff_id, user_id=user.pk, model=Handoff)
        if not found:
            raise NotFound
        return found[0], _case_agency_ids(user)
    # Read where memberships are read (the primary: config.db_router), as the agencies come with it.
    found = _HANDOFF_OF_MEMBER.objects_and_columns(
        wrap=_with_agencies(using), extra=tuple(_CASE_AGENCY_IDS.params(using, user_id=user.pk)), model=Membership,
        handoff_id=handoff_id, user_id=user.pk)
    if not found:
        raise NotFound
    handoff, (agency_ids,) = found[0]
    return handoff, set(agency_ids)


def handoff_get_for_user(*, user: User, handoff_id: int, lock: bool = False, lock_case: bool = False) -> HandoffAccess:
    """The handoff with the user's side of it, or NotFound for anyone in neither agency. `lock`: the
    handoff row locked (select_for_update) in the caller's transaction; `lock_case`: its case row too,
    in the same statement (the handoff's row first, as the services lock them). Unlocked, one compiled
    statement reads the handoff and the user's agencies (_HANDOFF_OF_MEMBER)."""
    if not (lock or lock_case):
        handoff, agency_ids = _handoff_and_agencies(user, handoff_id)
        return _handoff_access(handoff, agency_ids)
    agency_ids = _case_agency_ids(user)
    qs = Handoff.objects.select_related(*_LOCKED_RELATED).select_for_update(
        of=("self", "case") if lock_case else ("self",))
    try:
        handoff = qs.get(Q(to_agency_id__in=agency_ids) | Q(from_agency_id__in=agency_ids), pk=handoff_id)
    except (Handoff.DoesNotExist, ValueError, TypeError):
        raise NotFound from None
    return _handoff_access(handoff, agency_ids)


def _handoff_access(handoff: Handoff, agency_ids: set[int]) -> HandoffAccess:
    acting_id = acting_agency_pick(member_agency_ids=agency_ids)
    if handoff.from_agency_id in agency_ids and (
        acting_id == handoff.from_agency_id or handoff.to_agency_id not in agency_ids
    ):
        side, agency = "sender", handoff.from_agency
    else:
        side, agency = "receiver", handoff.to_agency
    acting = None if acting_id is None else acting_id == agency.pk
    return HandoffAccess(handoff, side, agency, acting)


def consented_categories(*, case: Case, agency: Agency, now: datetime.datetime | None = None) -> tuple[set, set]:
    """(shareable, refused) categories for the agency under the consents in force: the agency's own
    records and its sector's."""
    consents = Consent.objects.in_force(now).filter(case=case).covering(agency)
    granted: set[str] = set()
    refused: set[str] = set()
    for consent in consents:
        granted |= set(consent.granted_categories)
        refused |= set(consent.refused_categories)
    return granted - refused, refused


def handoff_actions_for(*, access: HandoffAccess) -> frozenset[str]:
    """What the viewer's side may do with the handoff now: HANDOFF_MACHINE's actions that its state
    allows and that belong to the viewer's side, as the services will allow them. Sending on after a
    decline is offered to the sender while it still leads the case; handoff_send decides."""
    if access.acting is False:
        # A person of several agencies, acting for another one than this side's.
        return frozenset()
    return frozenset(HANDOFF_MACHINE.available(access.handoff, may=lambda side: side == access.side))


@dataclass(frozen=True)
class HandoffTriage:
    """The case facts a receiver weighs before accepting: never a data category, and only when
    accepting would show them anyway (handoffs.sharing.handoff_acceptance_opens_case)."""

    risk_level: str
    risk_label: str
    incident_types: list[str]
    # True: under 16; False: 16 or older; None: age unknown.
    is_child: bool | None
    is_minor: bool | None


def handoff_triage(*, access: HandoffAccess) -> HandoffTriage | None:
    """Risk level, incident types and child flag of a waiting handoff's case for its receiver;
    None when accepting would not open the case to it (no consent in force for what is asked, no
    override), or once the handoff is answered (the receiver reads the case itself then). Two or
    three queries (survivor, consents, incidents with their forms)."""
    handoff = access.handoff
    if not access.is_receiver or handoff.status != HandoffStatus.SENT:
        return None
    if not access.sees_message:  # for a waiting handoff's receiver: whether accepting would open the case
        return None
    case = Case.objects.select_related("survivor").get(pk=handoff.case_id)
    types: list[str] = []
    incidents = Incident.objects.filter(case=case).prefetch_related("tech_form_rows").order_by("occurred_on", "id")
    for incident in incidents:
        label = str(incident.get_gbv_type_display())
        forms = sorted(str(TechForm(row.form).label) for row in incident.tech_form_rows.all())
        if forms:
            label = f"{label} ({', '.join(forms)})"
        if label not in types:
            types.append(label)
    return HandoffTriage(
        risk_level=case.risk_level, risk_label=str(case.get_risk_level_display()), incident_types=types,
        is_child=case.survivor.is_child, is_minor=case.survivor.is_minor,
    )


def handoff_is_overdue(handoff: Handoff, *, now: datetime.datetime | None = None) -> bool:
    return handoff.status == HandoffStatus.SENT and handoff.due_at <= (now or timezone.now())


def _person_name(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


# The handoff's own words on the line of the event that produced them.
_EVENT_DETAILS = {
    CaseEventType.HANDOFF_DECLINED: "decline_reason",
    CaseEventType.HANDOFF_WITHDRAWN: "withdraw_reason",
    CaseEventType.HANDOFF_COMPLETED: "outcome",
}


def _handoff_events(case_id: int, handoff_id: int) -> QuerySet[CaseEvent]:
    events = CaseEvent.objects.filter(case_id=case_id)
    if connections[router.db_for_read(CaseEvent)].vendor == "postgresql":
        # The ORM's data__handoff_id passes the id as JSON, which a compiled query cannot take: the same
        # comparison with the id as a parameter.
        # Int8: one prepared statement whatever the id's size (psycopg types a bare int by its value).
        column = f'"{CaseEvent._meta.db_table}"."data"'
        events = events.filter(RawSQL(f"({column} -> 'handoff_id') = to_jsonb(%s::bigint)", (Int8(handoff_id),),  # noqa: S611
                                      output_field=BooleanField()))
    else:
        events = events.filter(data__handoff_id=handoff_id)
    return events.select_related("agency", "actor").order_by("at", "id")


# Compiled once (config.compiled): the handoff page read its timeline through the ORM at every view.
_HANDOFF_EVENTS = CompiledModels(_handoff_events, case_id="int", handoff_id="int")


def handoff_timeline(*, access: HandoffAccess) -> list[TimelineEntry]:
    """The handoff's story, oldest first: its case events (sent, answered, lead moved, withdrawn,
    completed) with the reasons and the outcome, and the receiving agency's first look, which is a
    field of the handoff rather than an event. One query. Both sides read all of it: none of it is
    survivor data."""
    handoff = access.handoff
    events = _HANDOFF_EVENTS.objects(case_id=handoff.case_id, handoff_id=handoff.pk, model=CaseEvent)
    entries = []
    for event in events:
        agency = event.agency.name if event.agency else _("The system")
        render = RENDERERS.get(event.type)
        sentence = render(event, agency) if render else _("%(agency)s updated the handoff.") % {"agency": agency}
        field = _EVENT_DETAILS.get(event.type)
        entries.append(TimelineEntry(
            at=event.at, type=event.type, category=event.category, agency=agency, actor=_person_name(event.actor),
            sentence=sentence, details=getattr(handoff, field) if field else "",
        ))
    if handoff.viewed_at is not None:
        agency = handoff.to_agency.name
        entries.append(TimelineEntry(
            at=handoff.viewed_at, type="handoff_viewed", category=GENERAL, agency=agency,
            actor=_person_name(handoff.viewed_by), sentence=_("%(agency)s opened the handoff.") % {"agency": agency},
        ))
    # Stable: an answer given on first opening keeps "opened" before "accepted".
    viewed_first = {"handoff_viewed": 0}
    entries.sort(key=lambda entry: (entry.at, viewed_first.get(entry.type, 1)))
    return entries


def handoff_receivers(*, case: Case, from_agency: Agency) -> tuple[list[Agency], dict[int, tuple[set, set]]]:
    """Agencies the case can be handed to (active, not the sender), and for each agency that the
    survivor's consent in force covers (by name or by sector) what it allows: (shareable, refused)
    categories, as consented_categories computes them for one agency. Two queries."""
    consents = list(Consent.objects.in_force().filter(case=case).values_list(
        "receiving_agency_id", "receiving_sector", "granted_categories", "refused_categories"))
    agencies = list(Agency.objects.filter(active=True).exclude(pk=from_agency.pk).select_related("province"))
    allowed: dict[int, tuple[set, set]] = {}
    for agency in agencies:
        applying = [(g, r) for agency_id, sector, g, r in consents
                    if agency_id == agency.pk or (sector and sector == agency.sector)]
        if applying:
            granted = {c for g, _r in applying for c in g}
            refused = {c for _g, r in applying for c in r}
            allowed[agency.pk] = (granted - refused, refused)
    return agencies, allowed


def handoff_list_for_case(*, case: Case, agency: Agency | None) -> QuerySet[Handoff]:
    """The case's handoffs that the agency sent or received, newest first: another agency's
    referral of the same case is not its business."""
    if agency is None:
        return Handoff.objects.none()
    return _case_handoffs_of(case.pk, agency.pk)


def _case_handoffs_of(case_id: int, agency_id: int) -> QuerySet[Handoff]:
    return (
        Handoff.objects.filter(Q(from_agency_id=agency_id) | Q(to_agency_id=agency_id), case_id=case_id)
        .select_related("from_agency", "to_agency")
        .order_by("-sent_at", "-id")
    )


_CASE_HANDOFFS = CompiledModels(_case_handoffs_of, case_id="int", agency_id="int")


def handoffs_for_case_page(*, case: Case, agency: Agency | None) -> list[Handoff]:
    """handoff_list_for_case's handoffs, read by a query compiled once (the case page's coordination
    panel, read at every case view)."""
    if agency is None:
        return []
    return _CASE_HANDOFFS.objects(case_id=case.pk, agency_id=agency.pk, model=Handoff)
