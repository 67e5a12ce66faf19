"""The case's risk level set by hand (PATCH /api/cases/{id}/) never goes below the latest completed
assessment's level: judgement may raise a level, never lower a computed one."""

from tests.risk.conftest import answers_with, assess


def test_patch_cannot_lower_the_level_below_the_latest_assessment(world, case, api):
    assess(world, case, answers=answers_with(15))  # visible high risk
    case.refresh_from_db()
    assert case.risk_level == "high"
    client = api(world.lead_responder)
    response = client.patch(f"/api/cases/{case.pk}/", {"risk_level": "medium"}, format="json")
    assert response.status_code == 400
    assert "risk_level" in response.json()
    case.refresh_from_db()
    assert case.risk_level == "high"
    assert client.patch(f"/api/cases/{case.pk}/", {"risk_level": "severe"}, format="json").status_code == 200
    # Back to the assessment's level is allowed; below it is not.
    assert client.patch(f"/api/cases/{case.pk}/", {"risk_level": "high"}, format="json").status_code == 200
    assert client.patch(f"/api/cases/{case.pk}/", {"risk_level": "low"}, format="json").status_code == 400


def test_without_an_assessment_the_level_is_free(world, case, api):
    response = api(world.lead_responder).patch(f"/api/cases/{case.pk}/", {"risk_level": "low"}, format="json")
    assert response.status_code == 200
