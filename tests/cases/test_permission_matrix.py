"""Who may do what on a case, as a table: roles × every case endpoint and page, then roles × every
data category. Each row is checked against a case led by the police and shared with the health
agency for medical data only (identity refused), with one action in every category.

Outcomes: an HTTP status; LISTED / HIDDEN for lists (200 either way: is the case on it?); DONE for
a page form that saved and redirected back to the case (POST-redirect-GET); LOGIN for a redirect
to the sign-in page.

Every test of the module reads the same rows: the world, the shared case and the two handoff stories are
written once for the module (inside module_transaction, as Django's setUpTestData) and each test gets its
own copy of them; what a test writes is rolled back after it.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from agencies.models import Sector
from agencies.services import agency_create
from cases.intake import forms as intake_forms
from cases.intake import services as intake_services
from cases.selectors import case_get_for_user
from deadlines.services import case_deadline_set
from handoffs.services import handoff_accept
from permissions.categories import GENERAL, DataCategory
from takedowns.services import takedown_request_record
from tests.cases.conftest import (
    ACTIONS,
    ALL_CATEGORIES,
    SURVIVOR_VALUES,
    SharedWorld,
    case_build,
    incident_payload,
    medical_consent,
    open_payload,
    shared_world_build,
)
from tests.cases.services_helpers import consent_record_through_edge, handoff_send_through_edge
from tests.conftest import module_built_part

LISTED, HIDDEN, DONE, LOGIN = "listed", "hidden", "done", "login"
ROLES = ("lead_responder", "lead_supervisor", "receiving_responder", "outsider_responder", "analyst", "anonymous")

# Who may, as the outcome for each role in the order of ROLES: anyone the case is shared with, or its
# lead agency only. Everyone else gets 404, which tells nothing of the case; anonymous callers 403 from
# the API and the sign-in page from a page.
# fmt: off
#             lead_resp  lead_sup  receiving  outsider  analyst  anonymous
CASE_200   = (200,       200,      200,       404,      404,     403)
CASE_201   = (201,       201,      201,       404,      404,     403)
LEAD_200   = (200,       200,      403,       404,      404,     403)
LEAD_201   = (201,       201,      403,       404,      404,     403)
CASE_PAGE  = (200,       200,      200,       404,      404,     LOGIN)
CASE_SAVED = (DONE,      DONE,     DONE,      404,      404,     LOGIN)
LEAD_PAGE  = (200,       200,      403,       404,      404,     LOGIN)
LEAD_SAVED = (DONE,      DONE,     403,       404,      404,     LOGIN)

MATRIX = [
    # endpoint                                             lead_resp  lead_sup  receiving  outsider  analyst  anonymous
    ("GET    /api/cases/",                                 LISTED,    LISTED,   LISTED,    HIDDEN,   HIDDEN,  403),
    ("POST   /api/cases/",                                 201,       201,      201,       201,      403,     403),
    ("GET    /api/cases/{case}/",                          *CASE_200),
    ("PATCH  /api/cases/{case}/",                          *LEAD_200),
    ("POST   /api/cases/{case}/incidents/",                *LEAD_201),
    ("GET    /api/cases/{case}/actions/",                  *CASE_200),
    ("POST   /api/cases/{case}/actions/",                  *CASE_201),
    ("GET    /api/cases/{case}/consents/",                 *CASE_200),
    ("POST   /api/cases/{case}/consents/",                 *LEAD_201),
    ("POST   /api/cases/{case}/consents/{consent}/withdraw/", *LEAD_200),
    ("GET    /api/cases/{case}/timeline/",                 *CASE_200),
    ("GET    /api/cases/{case}/takedowns/",                *CASE_200),
    ("POST   /api/cases/{case}/takedowns/",                *CASE_201),
    ("POST   /api/cases/{case}/takedowns/{takedown}/outcome/", *CASE_200),
    ("GET    /work/",                                      LISTED,    403,      LISTED,    HIDDEN,   403,     LOGIN),
    ("GET    /cases/",                                     LISTED,    LISTED,   LISTED,    HIDDEN,   HIDDEN,  LOGIN),
    ("GET    /cases/new/",                                 200,       200,      200,       200,      403,     LOGIN),
    ("POST   /cases/new/",                                 302,       302,      302,       302,      403,     LOGIN),
    ("GET    /cases/intake/",                              200,       200,      200,       200,      403,     LOGIN),
    ("POST   /cases/intake/",                              302,       302,      302,       302,      403,     LOGIN),
    ("GET    /cases/intake/communes/",                     200,       200,      200,       200,      403,     LOGIN),
    # A draft (of the lead responder) is theirs alone: the same agency's supervisor gets 404 too.
    ("GET    /cases/intake/{draft}/{step}/",               200,       404,      404,       404,      403,     LOGIN),
    ("POST   /cases/intake/{draft}/{step}/",               302,       404,      404,       404,      403,     LOGIN),
    ("POST   /cases/intake/{draft}/discard/",              302,       404,      404,       404,      403,     LOGIN),
    ("GET    /cases/{case}/",                              *CASE_PAGE),
    ("POST   /cases/{case}/status/",                       *LEAD_SAVED),
    ("GET    /cases/{case}/close/",                        *LEAD_PAGE),
    ("POST   /cases/{case}/close/",                        *LEAD_SAVED),
    ("GET    /cases/{case}/actions/new/",                  *CASE_PAGE),
    ("POST   /cases/{case}/actions/new/",                  *CASE_SAVED),
    ("GET    /cases/{case}/consents/new/",                 *LEAD_PAGE),
    ("POST   /cases/{case}/consents/new/",                 *LEAD_SAVED),
    ("GET    /cases/{case}/consents/{consent}/withdraw/",  *LEAD_PAGE),
    ("POST   /cases/{case}/consents/{consent}/withdraw/",  *LEAD_SAVED),
    ("GET    /cases/{case}/takedowns/new/",                *CASE_PAGE),
    ("POST   /cases/{case}/takedowns/new/",                *CASE_SAVED),
    ("POST   /cases/{case}/takedowns/{takedown}/outcome/", *CASE_SAVED),
]

# What each role sees of the case's data (None: not the case at all).
CATEGORIES_SEEN = {
    "lead_responder":      set(DataCategory.values),
    "lead_supervisor":     set(DataCategory.values),
    "receiving_responder": {DataCategory.MEDICAL},
    "outsider_responder":  None,
    "analyst":             None,
    "anonymous":           None,
}
# fmt: on


def _api_bodies(world) -> dict[str, dict]:
    return {
        "POST   /api/cases/": open_payload(),
        "PATCH  /api/cases/{case}/": {"risk_level": "severe"},
        "POST   /api/cases/{case}/incidents/": incident_payload(),
        "POST   /api/cases/{case}/actions/": {"type": "medical_care", "text": "Băng bó vết thương."},
        "POST   /api/cases/{case}/consents/": {
            "receiving_agency": world.school.pk, "granted_categories": ["education"],
            "purpose": "Kế hoạch an toàn ở trường", "given_by": "survivor",
        },
        "POST   /api/cases/{case}/consents/{consent}/withdraw/": {"reason": ""},
        "POST   /api/cases/{case}/takedowns/": {
            "platform": "facebook", "content_reference": "https://www.facebook.com/p/1", "category": "general",
        },
        "POST   /api/cases/{case}/takedowns/{takedown}/outcome/": {"outcome": "removed"},
    }


def _page_forms(world) -> dict[str, dict]:
    return {
        "POST   /cases/new/": {
            "full_name": "Lê Thị Lan", "sex": "female", "age": "30", "disability": "unknown",
            "province": "01", "reported_on": timezone.localdate().isoformat(),
            "answer_penetration": "no", "answer_sexual_contact": "no", "answer_physical_assault": "yes",
            "perpetrator_relationship": "unknown", "risk_level": "medium", "statistics_consent": "on",
        },
        "POST   /cases/intake/": {"full_name": "Lê Thị Lan", "sex": "female", "age": "30", "go": "next"},
        "POST   /cases/intake/{draft}/{step}/": {"full_name": "Lê Thị Lan", "sex": "female", "age": "30", "go": "next"},
        "POST   /cases/intake/{draft}/discard/": {},
        "POST   /cases/{case}/status/": {"status": "active"},
        "POST   /cases/{case}/close/": {"close_reason": "Người bị hại đã an toàn."},
        "POST   /cases/{case}/actions/new/": {"type": "medical_care", "category": "medical", "text": "Tái khám."},
        "POST   /cases/{case}/consents/new/": {
            "receiving_agency": str(world.school.pk), "granted_categories": ["education"],
            "purpose": "Kế hoạch an toàn ở trường", "given_by": "survivor",
        },
        "POST   /cases/{case}/consents/{consent}/withdraw/": {"reason": ""},
        "POST   /cases/{case}/takedowns/new/": {
            "platform": "tiktok", "content_reference": "https://www.tiktok.com/@a/video/1", "category": "general",
        },
        "POST   /cases/{case}/takedowns/{takedown}/outcome/": {"outcome": "refused"},
    }


def _client(role, world, api, web, *, is_api: bool):
    user = None if role == "anonymous" else getattr(world, role)
    return api(user) if is_api else web(user)


def _takedown(world, case):
    """A takedown request in the general category, which every agency on the case reads."""
    access = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    return takedown_request_record(access=access, actor=world.lead_responder, data={
        "platform": "zalo", "content_reference": "https://zalo.me/p/1", "category": "general"})


def _draft(world):
    """An unfinished intake of the lead responder, acting for the police."""
    return intake_services.draft_create(user=world.lead_responder, agency=world.police, step="what",
                               values={**intake_forms.draft_defaults(agency=world.police), "full_name": ["Lê Thị Lan"]})


def _call(endpoint: str, role: str, world, shared_case, api, web):
    method, template = endpoint.split()
    takedown = _takedown(world, shared_case.case).pk if "{takedown}" in template else None
    draft = _draft(world).pk if "{draft}" in template else None
    path = template.format(case=shared_case.case.pk, consent=shared_case.consent.pk, takedown=takedown,
                           draft=draft, step="who")
    is_api = path.startswith("/api/")
    client = _client(role, world, api, web, is_api=is_api)
    if method == "GET":
        return path, client.get(path)
    if is_api:
        return path, getattr(client, method.lower())(path, _api_bodies(world)[endpoint], format="json")
    return path, client.post(path, _page_forms(world)[endpoint])


def assert_outcome(response, expected, *, number: str, done: str) -> None:
    """The response is the outcome a matrix row expects; `done` is where a saved page form goes back to."""
    if expected in (LISTED, HIDDEN):
        assert response.status_code == 200, response.content[:500]
        assert (number in response.content.decode()) is (expected == LISTED)
    elif expected == DONE:
        assert response.status_code == 302, response.content[:500]
        assert response["Location"] == done
    elif expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
    else:
        assert response.status_code == expected, response.content[:500]


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=[row[0].split(maxsplit=1)[0] + " " + row[0].split()[1] for row in MATRIX])
def test_permission_matrix(row, role_index, world, shared_case, api, web):
    endpoint, expected = row[0], row[1 + role_index]
    role = ROLES[role_index]
    path, response = _call(endpoint, role, world, shared_case, api, web)
    number = shared_case.case.number
    assert_outcome(response, expected, number=number, done=f"/cases/{shared_case.case.pk}/")
    if expected in (403, 404) and not path.startswith("/api/"):
        # A refused page shows nothing of the case, not even its number.
        assert number not in response.content.decode()


def test_the_matrix_covers_every_case_url():
    """A new case endpoint or page must get its row: every route of cases.urls and cases.api_urls (with
    the takedowns' mounted beside them) is here."""
    from cases import api_urls, urls
    from takedowns import api_urls as takedown_api_urls
    from takedowns import urls as takedown_urls

    rows = {row[0].split()[1] for row in MATRIX}
    prefixes = {api_urls: "/api/", urls: "/cases/", takedown_api_urls: "/api/", takedown_urls: "/cases/"}
    for module, prefix in prefixes.items():
        for pattern in module.urlpatterns:
            route = prefix + str(pattern.pattern).replace("<int:case_id>", "{case}").replace(
                "<int:consent_id>", "{consent}").replace("<int:takedown_id>", "{takedown}").replace(
                "<int:draft_id>", "{draft}").replace("<slug:step>", "{step}")
            assert route in rows, f"{route} has no row in MATRIX"


# --- Data categories -----------------------------------------------------------------------------

ON_CASE = [role for role, seen in CATEGORIES_SEEN.items() if seen is not None]


def _sees(role: str, category: str) -> bool:
    return category == GENERAL or category in CATEGORIES_SEEN[role]


@pytest.mark.parametrize("category", ALL_CATEGORIES)
@pytest.mark.parametrize("role", ON_CASE)
def test_category_visibility_in_every_response(role, category, world, shared_case, api, web):
    sees = _sees(role, category)
    user = getattr(world, role)
    case_id = shared_case.case.pk
    action_text = ACTIONS[category][1]
    survivor_values = SURVIVOR_VALUES.get(category, {})

    detail = api(user).get(f"/api/cases/{case_id}/").json()
    for field, value in survivor_values.items():
        if sees:
            assert detail["survivor"][field] == value
        else:
            assert field not in detail["survivor"]  # absent, not null
    assert (category in detail["access"]["categories"]) is (sees and category != GENERAL)

    actions = api(user).get(f"/api/cases/{case_id}/actions/").json()
    assert (action_text in [a["text"] for a in actions]) is sees
    assert all(a["category"] == GENERAL or a["category"] in CATEGORIES_SEEN[role] for a in actions)

    timeline = api(user).get(f"/api/cases/{case_id}/timeline/").json()
    assert (action_text in [entry["details"] for entry in timeline]) is sees

    page = web(user).get(f"/cases/{case_id}/").content.decode()
    assert (action_text in page) is sees
    for value in survivor_values.values():
        assert (value in page) is sees


def test_nothing_of_an_invisible_case_leaks_through_any_response(world, shared_case, api):
    """The outsider's refusals carry no case data: a 404 looks like a missing case."""
    client = api(world.outsider_responder)
    missing = client.get("/api/cases/999999/")
    refused = client.get(f"/api/cases/{shared_case.case.pk}/")
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == missing.json()


# --- Handoffs and case deadlines -----------------------------------------------------------------
# Both sides of a handoff and everyone else, against a case led by the police with one handoff to the
# health agency (consent: medical). The rows are grouped by the state the handoff must be in. DONE: the page
# saved and went back to the handoff (or, for a case deadline, to the case); NEW: a new handoff was
# sent and its page opened.

NEW = "new"
ON, OFF = LISTED, HIDDEN
HANDOFF_ROLES = ("lead_responder", "lead_supervisor", "receiving_responder", "receiving_supervisor",
                 "outsider_responder", "analyst", "anonymous")

# Who may, in the order of HANDOFF_ROLES: the agency that sent the handoff (the case's lead), the one
# that received it, or both; everyone else as on the case.
# fmt: off
#                  lead: resp, sup  receiving: resp, sup  outsider  analyst  anonymous
SENDER_200      = (200,  200,       403,  403,            404,      404,     403)
SENDER_201      = (201,  201,       403,  403,            404,      404,     403)
RECEIVER_200    = (403,  403,       200,  200,            404,      404,     403)
BOTH_200        = (200,  200,       200,  200,            404,      404,     403)
BOTH_201        = (201,  201,       201,  201,            404,      404,     403)
SENDER_PAGE     = (200,  200,       403,  403,            404,      404,     LOGIN)
BOTH_PAGE       = (200,  200,       200,  200,            404,      404,     LOGIN)
SENDER_SAVED    = (DONE, DONE,      403,  403,            404,      404,     LOGIN)
RECEIVER_SAVED  = (403,  403,       DONE, DONE,           404,      404,     LOGIN)
BOTH_SAVED      = (DONE, DONE,      DONE, DONE,           404,      404,     LOGIN)

# Each endpoint against a handoff just sent, or one the receiving agency has accepted.
WITH_SENT_HANDOFF = [
    # endpoint                                            lead agency (resp, sup), receiving (resp, sup),
    #                                                     outsider, analyst, anonymous
    ("GET  /api/handoffs/?direction=incoming",            OFF, OFF, ON, ON, OFF, 403, 403),
    ("GET  /api/handoffs/?direction=outgoing",            ON, ON, OFF, OFF, OFF, 403, 403),
    ("GET  /api/handoffs/{handoff}/",                     *BOTH_200),
    ("POST /api/handoffs/{handoff}/accept/",              *RECEIVER_200),
    ("POST /api/handoffs/{handoff}/decline/",             *RECEIVER_200),
    ("POST /api/handoffs/{handoff}/withdraw/",            *SENDER_200),
    ("GET  /handoffs/incoming/",                          OFF, OFF, ON, ON, OFF, 403, LOGIN),
    ("GET  /handoffs/outgoing/",                          ON, ON, OFF, OFF, OFF, 403, LOGIN),
    ("GET  /handoffs/{handoff}/",                         *BOTH_PAGE),
    ("POST /handoffs/{handoff}/accept/",                  *RECEIVER_SAVED),
    ("POST /handoffs/{handoff}/decline/",                 *RECEIVER_SAVED),
    ("POST /handoffs/{handoff}/withdraw/",                *SENDER_SAVED),
]
WITH_ACCEPTED_HANDOFF = [
    ("POST /api/cases/{case}/handoffs/",                  *SENDER_201),
    ("POST /api/handoffs/{handoff}/complete/",            *RECEIVER_200),
    ("GET  /api/cases/{case}/deadlines/",                 *BOTH_200),
    ("POST /api/cases/{case}/deadlines/",                 *BOTH_201),
    ("POST /api/cases/{case}/deadlines/{deadline}/done/", *SENDER_200),
    ("GET  /handoffs/new/{case}/",                        *SENDER_PAGE),
    ("POST /handoffs/new/{case}/",                        NEW, NEW, 403, 403, 404, 404, LOGIN),
    ("POST /handoffs/{handoff}/complete/",                *RECEIVER_SAVED),
    ("GET  /cases/{case}/deadlines/new/",                 *BOTH_PAGE),
    ("POST /cases/{case}/deadlines/new/",                 *BOTH_SAVED),
    ("POST /cases/{case}/deadlines/{deadline}/done/",     *SENDER_SAVED),
]
# endpoint, the handoff's state, the outcome for each role.
HANDOFF_MATRIX = [(endpoint, "sent", *outcomes) for endpoint, *outcomes in WITH_SENT_HANDOFF] + [
    (endpoint, "accepted", *outcomes) for endpoint, *outcomes in WITH_ACCEPTED_HANDOFF]
# fmt: on


@dataclass
class HandoffCase:
    case: object
    handoff: object
    deadline: object
    third_agency: object


def _handoff_case(world, state: str, social) -> HandoffCase:
    """The police case, referred to the health agency (consent: medical) and left `state`; a
    follow-up the lead responder set; a consent for the social-work agency `social`, for sending another."""
    case = case_build(world)
    lead = case_get_for_user(user=world.lead_responder, case_id=case.pk)
    consent_record_through_edge(access=lead, actor=world.lead_responder, data=medical_consent(world))
    consent_record_through_edge(access=lead, actor=world.lead_responder, data={
        "receiving_agency": social.pk, "granted_categories": ["psychosocial"], "purpose": "Tư vấn tâm lý",
        "given_by": "survivor"})
    handoff = handoff_send_through_edge(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                           actor=world.lead_responder, data={
                               "kind": "referral", "to_agency": world.health, "services": ["medical_care"],
                               "urgency": "urgent", "categories": ["medical"]})
    if state == "accepted":
        handoff_accept(user=world.receiving_responder, handoff_id=handoff.pk)
    deadline = case_deadline_set(access=case_get_for_user(user=world.lead_responder, case_id=case.pk),
                                 actor=world.lead_responder,
                                 data={"kind": "follow_up", "due_at": timezone.now() + datetime.timedelta(days=2)})
    return HandoffCase(case=case, handoff=handoff, deadline=deadline, third_agency=social)


@dataclass
class Built(SharedWorld):
    stories: dict[str, HandoffCase]


@pytest.fixture(scope="module")
def built_once(module_transaction, django_db_blocker) -> Built:
    """The world, shared_case and a handoff story in each state (one social-work agency for both),
    written once for the module: some 400 tests each wrote their world and case before (most of the
    module's time). Rolled back after the module's last test (module_transaction)."""
    with django_db_blocker.unblock():
        shared = shared_world_build()
        world = shared.world
        social = agency_create(name="Trung tâm Công tác xã hội Hà Nội", sector=Sector.SOCIAL_WORK, province=world.hanoi)
        stories = {state: _handoff_case(world, state, social) for state in ("sent", "accepted")}
    return Built(world=world, shared_case=shared.shared_case, stories=stories)


world = module_built_part("world")
shared_case = module_built_part("shared_case")


def _due() -> str:
    return (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def _handoff_bodies(story: HandoffCase) -> dict[str, dict]:
    """POST bodies by path template. A handoff page's form carries the API's body, its fields prefixed
    with the action (the page holds a form for each)."""
    send = {"kind": "referral", "to_agency": story.third_agency.pk, "services": ["counselling"],
            "urgency": "standard", "categories": ["psychosocial"]}
    due = {"kind": "follow_up", "due_at": _due()}
    api = {
        "/api/cases/{case}/handoffs/": send,
        "/api/handoffs/{handoff}/accept/": {},
        "/api/handoffs/{handoff}/decline/": {"reason": "Hết giường"},
        "/api/handoffs/{handoff}/withdraw/": {"reason": "Đã có nơi khác nhận"},
        "/api/handoffs/{handoff}/complete/": {"outcome": "Đã khám"},
        "/api/cases/{case}/deadlines/": due,
        "/api/cases/{case}/deadlines/{deadline}/done/": {},
    }
    pages = {
        "/handoffs/new/{case}/": {**send, "to_agency": str(story.third_agency.pk)},
        "/cases/{case}/deadlines/new/": due,
        "/cases/{case}/deadlines/{deadline}/done/": {},
    }
    for action in ("accept", "decline", "withdraw", "complete"):
        body = api[f"/api/handoffs/{{handoff}}/{action}/"]
        pages[f"/handoffs/{{handoff}}/{action}/"] = {f"{action}-{field}": value for field, value in body.items()}
    return api | pages


@pytest.mark.parametrize("role_index", range(len(HANDOFF_ROLES)), ids=HANDOFF_ROLES)
@pytest.mark.parametrize("row", HANDOFF_MATRIX,
                         ids=[row[0].split(maxsplit=1)[0] + " " + row[0].split()[1] for row in HANDOFF_MATRIX])
def test_handoff_permission_matrix(row, role_index, world, module_built, api, web):
    endpoint, state, expected = row[0], row[1], row[2 + role_index]
    role = HANDOFF_ROLES[role_index]
    story = module_built.stories[state]
    method, template = endpoint.split()
    path = template.format(case=story.case.pk, handoff=story.handoff.pk, deadline=story.deadline.pk)
    is_api = path.startswith("/api/")
    client = _client(role, world, api, web, is_api=is_api)
    if method == "GET":
        response = client.get(path)
    elif is_api:
        response = client.post(path, _handoff_bodies(story)[template], format="json")
    else:
        response = client.post(path, _handoff_bodies(story)[template])
    number = story.case.number
    if expected == NEW:
        assert response.status_code == 302, response.content[:500]
        assert response["Location"] == f"/handoffs/{story.case.handoffs.latest('id').pk}/" != path
    else:
        back = f"/cases/{story.case.pk}/" if "/deadlines/" in path else f"/handoffs/{story.handoff.pk}/"
        assert_outcome(response, expected, number=number, done=back)
    if expected in (403, 404) and not is_api:
        assert number not in response.content.decode()
    if expected in (403, 404, LOGIN) and method == "POST":
        # A refused request changes nothing.
        story.handoff.refresh_from_db()
        story.deadline.refresh_from_db()
        assert story.handoff.status == state and story.deadline.stage == "pending"
        assert story.case.handoffs.count() == 1


def test_the_handoff_matrix_covers_every_handoff_and_deadline_url():
    from deadlines import api_urls as deadline_api_urls
    from deadlines import urls as deadline_urls
    from handoffs import api_urls as handoff_api_urls
    from handoffs import urls as handoff_urls

    rows = {row[0].split()[1].split("?")[0] for row in HANDOFF_MATRIX}
    prefixes = {handoff_api_urls: "/api/", handoff_urls: "/handoffs/", deadline_urls: "/cases/",
                deadline_api_urls: "/api/"}
    for module, prefix in prefixes.items():
        for pattern in module.urlpatterns:
            route = prefix + str(pattern.pattern)
            for name, key in (("case_id", "case"), ("handoff_id", "handoff"), ("deadline_id", "deadline")):
                route = route.replace(f"<int:{name}>", "{" + key + "}")
            assert route in rows, f"{route} has no row in HANDOFF_MATRIX"
