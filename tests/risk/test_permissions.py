"""Who may use each risk URL (issue 17, part 9): the lead (police, every category), the receiving
agency (health: medical only, so no psychosocial answers), an agency not on the case, a ministry
analyst and an anonymous caller. One test per role walks every URL, so that the shared case is built
six times rather than sixty."""

import pytest

from tests.risk.conftest import answers_with, assess

LISTED, HIDDEN, DONE, LOGIN = "listed", "hidden", "done", "login"
ROLES = ("lead_responder", "lead_supervisor", "receiving_responder", "outsider_responder", "analyst", "anonymous")

# fmt: off
MATRIX = [
    # endpoint                                           lead_resp lead_sup receiving outsider analyst anonymous
    ("GET  /api/cases/{case}/risk-assessments/",             200,    200,     200,     404,    404,    403),
    ("POST /api/cases/{case}/risk-assessments/",             201,    201,     403,     404,    404,    403),
    ("GET  /api/cases/{case}/risk-assessments/{assessment}/", 200,   200,     403,     404,    404,    403),
    ("POST /api/cases/{case}/risk-reviews/",                 201,    201,     201,     404,    404,    403),
    # The instrument is reference data, not case content: everyone signed in may read it.
    ("GET  /api/risk/instrument/",                           200,    200,     200,     200,    200,    403),
    ("GET  /api/risk/meeting-eligible/",                     LISTED, LISTED,  LISTED,  HIDDEN, HIDDEN, 403),
    ("GET  /cases/{case}/risk/assess/",                      200,    200,     403,     404,    404,    LOGIN),
    ("POST /cases/{case}/risk/assess/",                      DONE,   DONE,    403,     404,    404,    LOGIN),
    ("GET  /cases/{case}/risk/{assessment}/",                200,    200,     403,     404,    404,    LOGIN),
    ("POST /cases/{case}/risk/review/",                      DONE,   DONE,    DONE,    404,    404,    LOGIN),
]
# fmt: on


def _bodies() -> dict[str, dict]:
    item_fields = {f"item_{code}": value for code, value in answers_with(14).items()}
    return {
        "POST /api/cases/{case}/risk-assessments/": {"answers": answers_with(14)},
        "POST /api/cases/{case}/risk-reviews/": {"trigger": "separation"},
        "POST /cases/{case}/risk/assess/": {**item_fields, "complete": "1"},
        "POST /cases/{case}/risk/review/": {"trigger": "breach"},
    }


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_every_risk_url_for_each_role(role_index, world, shared_case, api, web):
    role = ROLES[role_index]
    case = shared_case.case
    assessment = assess(world, case, answers=answers_with(yes=["strangulation"]),
                        judgement_reason="")  # high: the case is eligible for a meeting
    user = None if role == "anonymous" else getattr(world, role)
    for row in MATRIX:
        endpoint, expected = row[0], row[1 + role_index]
        method, template = endpoint.split()
        path = template.format(case=case.pk, assessment=assessment.pk)
        is_api = path.startswith("/api/")
        client = api(user) if is_api else web(user)
        if method == "GET":
            response = client.get(path)
        elif is_api:
            response = client.post(path, _bodies()[endpoint], format="json")
        else:
            response = client.post(path, _bodies()[endpoint])
        where = f"{role} {endpoint}"
        if expected in (LISTED, HIDDEN):
            assert response.status_code == 200, where
            assert (case.number in response.content.decode()) is (expected == LISTED), where
        elif expected == DONE:
            assert response.status_code == 302, where
            assert response["Location"] == f"/cases/{case.pk}/", where
        elif expected == LOGIN:
            assert response.status_code == 302 and response["Location"].startswith("/login/?next="), where
        else:
            assert response.status_code == expected, (where, response.content[:300])
        if expected in (403, 404):
            body = response.content.decode()
            assert case.number not in body and "strangulation" not in body, where


def test_the_matrix_covers_every_risk_url():
    from risk import api_urls, urls

    rows = {row[0].split()[1] for row in MATRIX}
    for module, prefix in {api_urls: "/api/", urls: "/cases/"}.items():
        for pattern in module.urlpatterns:
            route = prefix + str(pattern.pattern).replace("<int:case_id>", "{case}").replace(
                "<int:assessment_id>", "{assessment}")
            assert route in rows, route


def test_the_case_page_shows_the_level_to_all_and_the_answers_link_to_psychosocial_readers(world, shared_case, web):
    case = shared_case.case
    assess(world, case, answers=answers_with(yes=["strangulation"]))
    lead = web(world.lead_responder).get(f"/cases/{case.pk}/").content.decode()
    health = web(world.receiving_responder).get(f"/cases/{case.pk}/").content.decode()
    for page in (lead, health):
        assert 'data-testid="risk-latest-level"' in page
    assert f"/cases/{case.pk}/risk/" in lead and 'data-testid="assess-risk"' in lead
    assert 'data-testid="assess-risk"' not in health
    assert f'href="/cases/{case.pk}/risk/1' not in health and "/risk/assess/" not in health
