"""Each kind of data-subject request through to its outcome, with the legal deadlines started in
working days; erasure where the law allows it and its refusal where it does not; the access package
built, holding what each agency holds and nothing about anyone else, handed over once and audited."""

import io
import json
import re
import zipfile

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from cases.models import Case, Survivor
from notifications.models import Deadline, Notification, NotificationKind
from privacy.models import AccessPackage, DataSubjectRequest, RequestStatus
from privacy.serializers import RequestDecisionInputSerializer
from privacy.services import (
    PackageGone,
    access_package_build,
    access_package_download,
    legal_hold_place,
    privacy_request_acknowledge,
    privacy_request_decide,
    privacy_request_record,
)
from tests.cases.conftest import ACTIONS
from tests.cases.services_helpers import handoff_send_through_edge, through_edge
from tests.support.pages import form_tokens

from .conftest import OTHER_SURVIVOR, SURVIVOR, at, open_case

pytestmark = pytest.mark.django_db

FRIDAY = at(2026, 10, 9, 16, 0)  # an ordinary Friday (no holiday near it)


def _record(world, case, lead_access, kind, **data):
    return privacy_request_record(access=lead_access(case), actor=world.lead_responder,
                                  data={"kind": kind, "requester": "survivor", **data})


def test_recording_starts_both_legal_deadlines_in_working_days(world, time_limits, lead_access):
    with time_machine.travel(FRIDAY, tick=False):
        case = open_case(world)
        dsr = _record(world, case, lead_access, "correction", details="Sửa năm sinh")
    deadlines = {d.rule.code: d for d in Deadline.objects.filter(subject__startswith=f"dsr:{dsr.pk}:")}
    # 2 working days from a Friday: Tuesday, same time (the weekend does not count).
    assert deadlines["data_subject_request_acknowledge"].due_at == at(2026, 10, 13, 16, 0)
    # 15 days (calendar days, as time_limits.yaml lists them).
    assert deadlines["data_subject_request_complete"].due_at == at(2026, 10, 24, 16, 0)
    assert all(d.owner_agency_id == world.police.pk and d.case_id == case.pk for d in deadlines.values())
    told = Notification.objects.filter(kind=NotificationKind.DATA_SUBJECT_REQUEST, link=f"/privacy/requests/{dsr.pk}/")
    assert list(told.values_list("recipient__username", flat=True)) == ["lead_supervisor"]
    event = AuditEvent.objects.get(target=f"dsr:{dsr.pk}", action="create")
    assert "Sửa năm sinh" not in json.dumps(event.details, ensure_ascii=False) + event.reason


@pytest.mark.parametrize("kind", ["correction", "objection", "restriction"])
def test_each_kind_granted_ends_in_a_documented_outcome(world, time_limits, lead_access, kind):
    case = open_case(world)
    dsr = _record(world, case, lead_access, kind)
    privacy_request_acknowledge(user=world.lead_supervisor, request_id=dsr.pk)
    assert Deadline.objects.get(subject=f"dsr:{dsr.pk}:data_subject_request_acknowledge").closed_at is not None
    with pytest.raises(ValidationError) as error:
        privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
    assert "outcome" in error.value.message_dict
    dsr = privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk,
                                 data={"decision": "grant", "outcome": "Đã thực hiện theo yêu cầu"})
    dsr.refresh_from_db()
    assert (dsr.status, dsr.outcome, dsr.decided_by) == (RequestStatus.COMPLETED, "Đã thực hiện theo yêu cầu",
                                                         world.lead_supervisor)
    assert not Deadline.objects.filter(subject__startswith=f"dsr:{dsr.pk}:", closed_at__isnull=True).exists()
    assert AuditEvent.objects.filter(target=f"dsr:{dsr.pk}", action="change", details__decision="grant").exists()


def test_a_refusal_needs_a_ground_and_the_words_she_is_told(world, time_limits, lead_access):
    dsr = _record(world, open_case(world), lead_access, "objection")
    with pytest.raises(ValidationError) as error:
        privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk,
                               data=through_edge(RequestDecisionInputSerializer, {"decision": "refuse"}))
    assert {"refusal_ground", "outcome"} <= set(error.value.message_dict)
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={
        "decision": "refuse", "refusal_ground": "not_verified", "outcome": "Chưa xác minh được người yêu cầu"})
    dsr.refresh_from_db()
    assert (dsr.status, dsr.refusal_ground) == (RequestStatus.REFUSED, "not_verified")
    assert dsr.completed_at is not None


def test_only_the_lead_supervisor_decides(world, time_limits, lead_access):
    dsr = _record(world, open_case(world), lead_access, "objection")
    with pytest.raises(PermissionDenied):
        privacy_request_acknowledge(user=world.lead_responder, request_id=dsr.pk)
    from config.exceptions import NotFound

    for user in (world.receiving_supervisor, world.outsider_supervisor, world.analyst):
        with pytest.raises(NotFound):
            privacy_request_decide(user=user, request_id=dsr.pk, data={"decision": "grant", "outcome": "x"})


def test_guardian_only_for_a_child(world, time_limits, lead_access):
    with pytest.raises(ValidationError) as error:
        _record(world, open_case(world), lead_access, "access", requester="guardian")
    assert "requester" in error.value.message_dict
    child = open_case(world, survivor={**SURVIVOR, "birth_year": 2015})
    assert _record(world, child, lead_access, "access", requester="guardian").requester == "guardian"


def test_erasure_where_the_law_allows_it_anonymises_the_case(world, time_limits, lead_access):
    from reports.indicators import month_drafts

    case = open_case(world)
    period = case.created_at.date().replace(day=1)
    def counts():
        # The request's own two deadlines are counted in deadlines_missed (met): leave that table out.
        return {(s, d.key): d.cells for s, ds in month_drafts(period)[1].items() for d in ds
                if d.key != "deadlines_missed"}

    before = counts()
    earlier = _record(world, case, lead_access, "correction", details="Tên đúng là Nguyễn Thị Hoà")
    dsr = _record(world, case, lead_access, "erasure", details="Xin xóa hồ sơ của Nguyễn Thị Hoa")
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
    dsr.refresh_from_db()
    case.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED and dsr.outcome
    assert case.anonymised_at is not None
    survivor = Survivor.objects.get(pk=case.survivor_id)
    assert SURVIVOR["full_name"] != survivor.full_name and SURVIVOR["phone"] != survivor.phone
    assert counts() == before
    # Her requests' own text goes too; the erasure's outcome (a fixed sentence) stays as the record.
    assert DataSubjectRequest.objects.get(pk=earlier.pk).details == ""
    assert dsr.details == "" and DataSubjectRequest.objects.get(pk=dsr.pk).details == ""
    with pytest.raises(ValidationError):  # nothing more can be asked about an anonymised case
        _record(world, case, lead_access, "access")


ERASED = "The case was anonymised: her identity and every text were erased."
TYPED = f"Đã xóa hồ sơ của chị {SURVIVOR['full_name']} (SĐT {SURVIVOR['phone']}) theo yêu cầu ngày 5/12"


def test_a_granted_erasure_takes_no_typed_outcome_on_the_api(world, time_limits, lead_access, api):
    """The outcome of a granted erasure outlives it as its record (sealed under the key ring, not the
    destroyed case key): typed text there (her name, her phone) would be readable after her erasure.
    It is refused with a field error; granted without it, the outcome is the fixed sentence."""
    case = open_case(world)
    dsr = _record(world, case, lead_access, "erasure")
    client = api(world.lead_supervisor)
    url = f"/api/privacy/requests/{dsr.pk}/decide/"
    refused = client.post(url, {"decision": "grant", "outcome": TYPED}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400 and "granting an erasure" in refused.json()["outcome"][0]
    assert Case.objects.get(pk=case.pk).anonymised_at is None
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.RECEIVED

    assert client.post(url, {"decision": "grant"}, format="json", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    assert Case.objects.get(pk=case.pk).anonymised_at is not None
    shown = client.get(f"/api/privacy/requests/{dsr.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert shown.json()["outcome"] == ERASED
    assert DataSubjectRequest.objects.get(pk=dsr.pk).outcome == ERASED
    assert not any(SURVIVOR[field] in value for field in ("full_name", "phone")
                   for value in DataSubjectRequest.objects.values_list("outcome", flat=True))


def test_a_granted_erasure_takes_no_typed_outcome_on_the_page(world, time_limits, lead_access, web):
    """The page says so beside the field, shows the refusal on the field and keeps the request
    undecided; sent again without the text, the case is erased with the fixed sentence."""
    case = open_case(world)
    dsr = _record(world, case, lead_access, "erasure")
    client = web(world.lead_supervisor)
    page, decide = f"/privacy/requests/{dsr.pk}/", f"/privacy/requests/{dsr.pk}/decide/"
    shown = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Leave the outcome empty when granting an erasure" in shown
    token = form_tokens(shown)[decide]
    refused = client.post(decide, {"decision": "grant", "outcome": TYPED, "sending_token": token},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    field = re.search(r'<div class="field has-error" data-field="outcome">(.*?)</textarea>',
                      refused.content.decode(), re.S)
    assert field and "granting an erasure" in field.group(1)
    assert Case.objects.get(pk=case.pk).anonymised_at is None
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.RECEIVED

    granted = client.post(decide, {"decision": "grant", "outcome": "", "sending_token": token},
                          HTTP_ACCEPT_LANGUAGE="en")
    assert granted.status_code == 302
    assert Case.objects.get(pk=case.pk).anonymised_at is not None
    assert DataSubjectRequest.objects.get(pk=dsr.pk).outcome == ERASED
    assert SURVIVOR["full_name"] not in client.get(page).content.decode()


def test_only_an_erasure_request_says_its_outcome_is_left_empty(world, time_limits, lead_access, web):
    """The help text belongs to an erasure's decision; an objection's outcome is to be typed."""
    case = open_case(world)
    dsr = _record(world, case, lead_access, "objection")
    shown = web(world.lead_supervisor).get(f"/privacy/requests/{dsr.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert shown.status_code == 200 and "Leave the outcome empty" not in shown.content.decode()


def test_erasure_refused_under_a_legal_hold_with_its_ground(world, time_limits, lead_access):
    case = open_case(world)
    legal_hold_place(user=world.lead_supervisor, case=case, data={"reason": "Lệnh của tòa án"})
    dsr = _record(world, case, lead_access, "erasure")
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
    dsr.refresh_from_db()
    assert (dsr.status, dsr.refusal_ground) == (RequestStatus.REFUSED, "legal_hold")
    assert dsr.outcome
    assert Case.objects.get(pk=case.pk).anonymised_at is None
    assert Survivor.objects.get(pk=case.survivor_id).full_name == SURVIVOR["full_name"]


def test_erasure_refused_while_an_investigation_is_open(world, time_limits, lead_access):
    from tests.cases.conftest import medical_consent
    from tests.cases.services_helpers import consent_record_through_edge

    case = open_case(world)
    consent_record_through_edge(access=lead_access(case), actor=world.lead_responder, data=medical_consent(world))
    handoff_send_through_edge(access=lead_access(case), actor=world.lead_responder, data={
        "kind": "referral", "to_agency": world.health, "services": ["investigation"], "urgency": "standard",
        "categories": ["medical"], "message": ""})
    dsr = _record(world, case, lead_access, "erasure")
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
    dsr.refresh_from_db()
    assert (dsr.status, dsr.refusal_ground) == (RequestStatus.REFUSED, "criminal_proceedings")
    assert Case.objects.get(pk=case.pk).anonymised_at is None


def _package(world, dsr) -> dict:
    content, filename = access_package_download(user=world.lead_supervisor, request_id=dsr.pk)
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert sorted(archive.namelist()) == ["du-lieu-ca-nhan.json", "du-lieu-ca-nhan.pdf"]
    assert archive.read("du-lieu-ca-nhan.pdf").startswith(b"%PDF")
    return json.loads(archive.read("du-lieu-ca-nhan.json"))


def test_access_package_holds_each_agencys_data_and_nothing_of_others(world, shared_case, lead_access,
                                                                     django_capture_on_commit_callbacks):
    from cases.services import action_log

    case = shared_case.case
    # Another survivor, with her own case and notes, in the same agency.
    other = open_case(world, survivor=OTHER_SURVIVOR)
    action_log(access=lead_access(other), actor=world.lead_responder,
               data={"type": "note", "text": "OTHER-SURVIVOR-NOTE gặp tại trường"})
    action_log(access=lead_access(case, world.receiving_responder), actor=world.receiving_responder,
               data={"type": "medical_care", "category": "medical", "text": "HEALTH-NOTE: băng bó"})
    dsr = _record(world, case, lead_access, "access")
    with django_capture_on_commit_callbacks() as callbacks:
        privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
    assert len(callbacks) == 1  # the worker is asked to build it (run in-process below; see test_worker)
    assert AccessPackage.objects.get(request=dsr).status == AccessPackage.Status.PENDING
    assert access_package_build(request_id=dsr.pk) == AccessPackage.Status.READY
    assert Notification.objects.filter(kind=NotificationKind.ACCESS_PACKAGE_READY,
                                       recipient=world.lead_supervisor).exists()
    stored = AccessPackage.objects.values_list("content", flat=True).get(request=dsr)
    assert SURVIVOR["full_name"].encode() not in stored.encode()  # encrypted at rest

    data = _package(world, dsr)
    text = json.dumps(data, ensure_ascii=False)
    assert data["nguoi_bi_hai"]["ho_ten"] == SURVIVOR["full_name"]
    assert data["nguoi_bi_hai"]["dien_thoai"] == SURVIVOR["phone"]
    by_agency = {entry["co_quan"]: entry for entry in data["co_quan"]}
    assert set(by_agency) == {world.police.name, world.health.name}
    police_texts = {a["noi_dung"] for a in by_agency[world.police.name]["hanh_dong"]}
    assert police_texts == {text for _type, text in ACTIONS.values()}
    assert {a["noi_dung"] for a in by_agency[world.health.name]["hanh_dong"]} == {"HEALTH-NOTE: băng bó"}
    assert by_agency[world.health.name]["chuyen_nhan"][0]["loi_nhan"] == "Đề nghị hỗ trợ."
    assert by_agency[world.police.name]["dong_y_da_ghi"][0]["muc_dich"] == "Khám và điều trị"
    # Vietnamese labels, and nothing about the other survivor.
    assert data["tieu_de"] == "Dữ liệu cá nhân được lưu giữ về bạn"
    assert by_agency[world.police.name]["vai_tro"] == ["Đơn vị chủ trì"]
    assert "Lead agency" not in text
    for value in (OTHER_SURVIVOR["full_name"], OTHER_SURVIVOR["phone"], OTHER_SURVIVOR["address"],
                  "OTHER-SURVIVOR-NOTE", other.number, other.survivor.pseudonym):
        assert value not in text

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED
    assert not Deadline.objects.filter(subject__startswith=f"dsr:{dsr.pk}:", closed_at__isnull=True).exists()
    event = AuditEvent.objects.get(target=f"dsr:{dsr.pk}", action="export")
    assert event.actor == world.lead_supervisor and event.details["package"] == "downloaded"
    # Once: the content is gone.
    with pytest.raises(PackageGone):
        access_package_download(user=world.lead_supervisor, request_id=dsr.pk)
    package = AccessPackage.objects.get(request=dsr)
    assert (package.status, package.content) == (AccessPackage.Status.DOWNLOADED, "")
    assert AuditEvent.objects.filter(target=f"dsr:{dsr.pk}", action="export").count() == 1


def test_the_package_is_not_downloadable_before_it_is_built(world, time_limits, lead_access):
    dsr = _record(world, open_case(world), lead_access, "access")
    privacy_request_decide(user=world.lead_supervisor, request_id=dsr.pk, data={"decision": "grant"})
    with pytest.raises(PackageGone):
        access_package_download(user=world.lead_supervisor, request_id=dsr.pk)
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.GRANTED
