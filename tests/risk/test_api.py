"""The risk API's answers: bad input is a 400 with messages by field (never a 500), judgement that
would lower is refused by field, a draft is saved with complete=false, and the detail carries the
answers and the reason only for a reader of psychosocial data."""

from tests.risk.conftest import adult_codes, answers_with


def test_bad_input_is_a_400_by_field(world, case, api):
    client = api(world.lead_responder)
    url = f"/api/cases/{case.pk}/risk-assessments/"
    for body, key in [
        ({"answers": ["yes"]}, "answers"),
        ({"answers": {"injury": "maybe"}}, "answers.injury"),
        ({"answers": {"choking": "yes"}, "complete": False}, "answers.choking"),
        ({"answers": answers_with(3), "variant": "elder"}, "variant"),
        ({"answers": answers_with(3), "extra": 1}, "extra"),
        ({"answers": {"injury": "yes"}}, "answers.fear"),
    ]:
        response = client.post(url, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert key in response.json(), (body, response.json())


def test_judgement_that_would_lower_is_refused_and_raising_needs_a_reason(world, case, api):
    client = api(world.lead_responder)
    url = f"/api/cases/{case.pk}/risk-assessments/"
    lowered = client.post(url, {"answers": answers_with(14), "raised_level": "low",
                                "judgement_reason": "Không cần"}, format="json")
    assert lowered.status_code == 400 and "raised_level" in lowered.json()
    no_reason = client.post(url, {"answers": answers_with(2), "raised_level": "high"}, format="json")
    assert no_reason.status_code == 400 and "judgement_reason" in no_reason.json()
    raised = client.post(url, {"answers": answers_with(2), "raised_level": "severe",
                               "judgement_reason": "Đã bị dọa bằng dao hôm qua"}, format="json")
    assert raised.status_code == 201
    body = raised.json()
    assert (body["computed_level"], body["level"], body["raised"], body["score"]) == ("low", "severe", True, 2)
    assert body["judgement_reason"] == "Đã bị dọa bằng dao hôm qua"
    listed = client.get(url).json()
    assert [row["level"] for row in listed] == ["severe"] and "answers" not in listed[0]
    # The health agency sees the level in the list, not the answers nor the reason.
    health = api(world.receiving_responder)
    assert health.get(url).json()[0]["level"] == "severe"
    detail = health.get(f"{url}{body['id']}/")
    assert detail.status_code == 403 and "dao" not in detail.content.decode()


def test_a_draft_through_the_api_then_completed(world, case, api):
    client = api(world.lead_responder)
    url = f"/api/cases/{case.pk}/risk-assessments/"
    codes = adult_codes()
    draft = client.post(url, {"answers": {codes[0]: "yes"}, "complete": False}, format="json")
    assert draft.status_code == 201 and draft.json()["status"] == "draft" and draft.json()["level"] == ""
    assert client.get(url).json() == []  # drafts are not listed
    done = client.post(url, {"answers": {c: "no" for c in codes[1:]}}, format="json")
    assert done.status_code == 201
    assert (done.json()["id"], done.json()["status"], done.json()["score"]) == (draft.json()["id"], "completed", 1)


def test_the_instrument_endpoint_gives_both_languages(world, api):
    body = api(world.lead_responder).get("/api/risk/instrument/").json()
    assert body["version"] == "2026.1"
    adult = next(v for v in body["variants"] if v["code"] == "adult")
    assert adult["visible_high_threshold"] == 14 and adult["alone_high"] == ["strangulation", "threats_to_kill"]
    assert all(item["text_vi"] and item["text_en"] for item in adult["items"])
