"""The register's decline reasons grouped and counted by their keys (handoffs.models.Handoff.decline_reason_key,
encryption.crypto.reason_key) give exactly what reading and opening every declined handoff's reason and
grouping the words gives (`read` below: the former way), for every agency, unfiltered (on PostgreSQL one
statement off the handoff table's declined indexes) and filtered: on a world changed through the decline
service, behind its back (statuses, times, agencies and cases moved, rows copied and deleted), a case
anonymised (its reasons no longer readable nor counted) and a case deleted. The same check fails when a key
is not written or not blanked; only the reasons shown are opened."""

import datetime
import hashlib
import io
import unicodedata
from collections import defaultdict
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Agency
from cases.erasure import anonymise_case, anonymised_reapply
from cases.models import Case
from encryption import crypto
from handoffs.models import Handoff, HandoffStatus
from handoffs.services import handoff_decline
from supervision import selectors
from supervision.selectors import (
    RegisterFilters,
    decline_reasons,
    handoff_register_base,
    handoff_register_filter,
)
from tests.cases.services_helpers import consent_data, open_case
from tests.supervision.conftest import DAY, REGISTER_ONCE, send

pytestmark = REGISTER_ONCE
POSTGRESQL = connection.vendor == "postgresql"
ORM = RegisterFilters(extra={"orm": True})  # unfiltered, but not the unfiltered statement: the ORM's grouping
FILTERS = (RegisterFilters(), ORM, RegisterFilters(direction="received"), RegisterFilters(direction="sent"),
           RegisterFilters(urgency="standard"))


def read(*, agency: Agency, filters: RegisterFilters, now: datetime.datetime, limit: int = 20) -> list[dict]:
    """The reasons as reading every filtered declined handoff and opening its reason gives them: grouped by
    their words, each shown as its newest handoff wrote it, most frequent first, then most recently given."""
    qs = handoff_register_filter(handoff_register_base(agency=agency), agency=agency, filters=filters, now=now)
    groups: dict[str, list[Handoff]] = defaultdict(list)
    for handoff in qs.filter(status=HandoffStatus.DECLINED).select_related("case__data_key"):
        if handoff.decline_reason:  # "": its case was anonymised
            groups[crypto.normalize_reason(handoff.decline_reason)].append(handoff)
    epoch = datetime.datetime.min.replace(tzinfo=datetime.UTC)
    rows = []
    for words, handoffs in groups.items():
        answered = [h.responded_at for h in handoffs if h.responded_at]
        newest = max(handoffs, key=lambda h: (h.responded_at is None, h.responded_at or epoch, h.pk))
        rows.append({"decline_reason": newest.decline_reason, "count": len(handoffs),
                     "last": max(answered) if answered else None, "_key": crypto.reason_key(words)})
    rows.sort(key=lambda r: (-r["count"], -(r["last"] or epoch).timestamp(), r["_key"]))
    return [{k: v for k, v in r.items() if k != "_key"} for r in rows[:limit]]


def assert_same(now: datetime.datetime | None = None) -> int:
    """Every agency's reasons, unfiltered and filtered, are those read; returns how many declines were counted
    (unfiltered, by every agency)."""
    now = now or timezone.now()
    crypto.key_cache_clear()
    counted = 0
    for agency in Agency.objects.order_by("pk"):
        for filters in FILTERS:
            expected = read(agency=agency, filters=filters, now=now)
            assert decline_reasons(agency=agency, filters=filters, now=now) == expected, (agency.name, filters)
        counted += sum(r["count"] for r in read(agency=agency, filters=RegisterFilters(), now=now, limit=10**6))
    return counted


def decline(world, case, reason: str, **overrides) -> Handoff:
    handoff = send(world, case, **overrides)
    return handoff_decline(user=world.receiving_responder, handoff_id=handoff.pk, reason=reason)


def test_the_keys_give_what_reading_every_reason_gave_as_the_world_changes(world, register):
    r = register
    assert assert_same() == 2  # H2, counted by police and health
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    full = "Không đủ giường bệnh."
    # The same words: typed decomposed (a letter and its marks), and with space around; other words.
    first = decline(world, case, unicodedata.normalize("NFD", full), urgency="standard")
    second = decline(world, case, f"  {full}\n")
    decline(world, case, "Ngoài phạm vi chuyên môn.")
    assert assert_same() == 8
    police = decline_reasons(agency=world.police)
    assert [(x["decline_reason"], x["count"]) for x in police] == [(full, 3), ("Ngoài phạm vi chuyên môn.", 1)]
    assert police[0]["decline_reason"] == full  # the newest one's words (stripped by the service), not the NFD ones

    # More reasons than the page shows (20), each once: the most recent first.
    for i in range(21):
        decline(world, case, f"Lý do số {i}.")
    assert assert_same() == 50
    police = [x["decline_reason"] for x in decline_reasons(agency=world.police)]
    assert len(police) == 20 and police[:3] == [full, "Lý do số 20.", "Lý do số 19."]

    # Behind the service's back: answered at other times, statuses, agencies and cases moved.
    Handoff.objects.filter(pk=first.pk).update(responded_at=timezone.now() + DAY)
    assert assert_same()
    Handoff.objects.filter(pk=second.pk).update(responded_at=None)
    assert assert_same()
    Handoff.objects.filter(pk=r.h2.pk).update(status=HandoffStatus.ACCEPTED)
    assert assert_same()
    Handoff.objects.filter(pk=r.h2.pk).update(status=HandoffStatus.DECLINED)
    assert assert_same()
    Handoff.objects.filter(pk=first.pk).update(from_agency=r.social, to_agency=world.police)
    assert assert_same()
    Handoff.objects.filter(pk=r.h2.pk).update(case=r.h1.case)
    assert assert_same()
    copy = Handoff.objects.get(pk=first.pk)
    copy.pk = None
    copy.save()
    assert assert_same()
    Handoff.objects.filter(decline_reason_key=crypto.reason_key("Lý do số 3.")).delete()
    assert assert_same()

    # A case anonymised: its reasons are neither shown nor counted (nor keyed); another deleted.
    anonymise_case(case, actor=None, reason="retention")
    assert not Handoff.objects.filter(case=case, decline_reason_key__isnull=False).exists()
    assert assert_same() == 2  # H2 (moved to case 1), counted by police and health
    assert [(x["decline_reason"], x["count"]) for x in decline_reasons(agency=world.police)] == [(full, 1)]
    Case.objects.filter(pk=r.h1.case_id).delete()
    assert assert_same() == 0
    Handoff.objects.all().delete()
    assert assert_same() == 0


def test_the_check_fails_when_a_key_is_not_written_or_not_blanked(world, register, monkeypatch):
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    decline(world, case, "Không đủ giường bệnh.")
    assert_same()
    # The decline service writing no key: its reason is not counted.
    with monkeypatch.context() as patch:
        patch.setattr("handoffs.services.reason_key", lambda reason: None)
        unkeyed = decline(world, case, "Ngoài phạm vi chuyên môn.")
    with pytest.raises(AssertionError):
        assert_same()
    Handoff.objects.filter(pk=unkeyed.pk).update(decline_reason_key=crypto.reason_key("Ngoài phạm vi chuyên môn."))
    assert_same()
    # A key of other words: counted with them.
    Handoff.objects.filter(pk=unkeyed.pk).update(decline_reason_key=crypto.reason_key("Không đủ giường bệnh."))
    with pytest.raises(AssertionError):
        assert_same()
    Handoff.objects.filter(pk=unkeyed.pk).update(decline_reason_key=crypto.reason_key("Ngoài phạm vi chuyên môn."))
    # The erasure leaving the keys: the anonymised case's reasons still counted.
    monkeypatch.setattr(Handoff, "sealed_text_keys", ())
    anonymise_case(case, actor=None, reason="retention")
    with pytest.raises(AssertionError):
        assert_same()


def test_a_restored_backups_keys_are_blanked_again_with_the_case_text(world, register):
    case = register.h2.case
    key = Handoff.objects.get(pk=register.h2.pk).decline_reason_key
    assert key == crypto.reason_key("Không đủ giường bệnh.")
    anonymise_case(case, actor=None, reason="retention")
    assert Handoff.objects.get(pk=register.h2.pk).decline_reason_key is None
    # A backup taken before the erasure, restored: the case and its key as they were.
    Case.objects.filter(pk=case.pk).update(anonymised_at=None)
    Handoff.objects.filter(pk=register.h2.pk).update(decline_reason_key=key)
    anonymised_reapply()
    assert Handoff.objects.get(pk=register.h2.pk).decline_reason_key is None


def test_the_key_is_keyed_and_of_the_normalized_words(settings):
    words = "Không đủ giường bệnh."
    key = crypto.reason_key(words)
    assert key == crypto.reason_key(unicodedata.normalize("NFD", f" {words} ")) != crypto.reason_key("Khác.")
    assert crypto.reason_key("") is crypto.reason_key("  ") is None
    assert key.hex not in {crypto.phone_search_hash(words)[:32], hashlib.sha256(words.encode()).hexdigest()[:32]}
    settings.SEARCH_HASH_KEY = "another-installation-search-hash-key"
    assert crypto.reason_key(words) != key


def test_only_the_reasons_shown_are_opened(world, register, monkeypatch):
    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    for _ in range(3):
        decline(world, case, "Ngoài phạm vi chuyên môn.")
    opened = []
    unseal = crypto.unseal
    monkeypatch.setattr(crypto, "unseal", lambda value: opened.append(value) or unseal(value))
    crypto.key_cache_clear()
    with CaptureQueriesContext(connection) as queries:
        reasons = decline_reasons(agency=world.police)
    assert [(x["decline_reason"], x["count"]) for x in reasons] == [
        ("Ngoài phạm vi chuyên môn.", 3), ("Không đủ giường bệnh.", 1)]
    assert len(opened) == 2
    # One statement for the groups, one for the keys of the two reasons shown.
    assert len(queries) == 2
    if POSTGRESQL:
        assert "decline_reason_key" in queries[0]["sql"] and "GROUP BY" in queries[0]["sql"]


@pytest.mark.skipif(not POSTGRESQL, reason="the unfiltered statement is PostgreSQL's")
def test_the_unfiltered_statement_counts_off_the_declined_indexes(world, register):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {selectors._DECLINE_REASONS_SQL}", [world.police.pk] * 4 + [20])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "handoff_outgoing_declined" in plan and "handoff_incoming_declined" in plan


def test_the_migration_writes_the_keys_of_the_reasons_already_given(world, register):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("handoffs.migrations.0008_decline_reason_keys")
    anonymised = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    decline(world, anonymised, "Ngoài phạm vi chuyên môn.")
    anonymise_case(anonymised, actor=None, reason="retention")
    before = dict(Handoff.objects.values_list("pk", "decline_reason_key"))
    assert sum(1 for key in before.values() if key) == 1
    Handoff.objects.update(decline_reason_key=None)
    migration.reason_keys_write(apps, SimpleNamespace(connection=connection))
    assert dict(Handoff.objects.values_list("pk", "decline_reason_key")) == before


def test_the_keys_are_written_again_under_a_new_search_hash_key(world, register, settings):
    from django.core.management import call_command

    case = open_case(world, consent=consent_data(world, granted_categories=["medical"]))
    decline(world, case, "Không đủ giường bệnh.")
    settings.SEARCH_HASH_KEY = "another-installation-search-hash-key"
    decline(world, case, "Không đủ giường bệnh.")
    # Until written again, the same words under two keys are counted apart.
    with pytest.raises(AssertionError):
        assert_same()
    call_command("rewrite_decline_reason_keys", batch_size=2, stdout=io.StringIO())
    assert set(Handoff.objects.filter(status=HandoffStatus.DECLINED).values_list("decline_reason_key", flat=True)) == {
        crypto.reason_key("Không đủ giường bệnh.")}
    assert assert_same() == 6
