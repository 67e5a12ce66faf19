"""The demo's privacy rows: a couple of requests and a legal hold on demo cases, seeded once."""

import pytest

from cases.demo import seed_demo_cases
from notifications.models import Deadline
from privacy.demo import seed_demo_privacy_step
from privacy.models import DataSubjectRequest, LegalHold

pytestmark = pytest.mark.django_db


def test_seed_adds_two_requests_and_a_hold_once(time_limits):
    seed_demo_cases(count=25)
    seed_demo_privacy_step(None)
    requests = DataSubjectRequest.objects.order_by("pk")
    assert list(requests.values_list("kind", "status")) == [("access", "received"), ("correction", "acknowledged")]
    assert Deadline.objects.filter(subject__startswith="dsr:").count() == 4
    hold = LegalHold.objects.get()
    assert hold.case.status == "closed" and hold.reason
    seed_demo_privacy_step(None)
    assert (DataSubjectRequest.objects.count(), LegalHold.objects.count()) == (2, 1)
