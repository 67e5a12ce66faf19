import threading

import pytest
from django.db import connections, transaction

from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_chain_pending, audit_record

THREADS = 8
EVENTS_EACH = 25


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_gapless_chain():
    # PostgreSQL: writers insert unchained and commit without any chain lock; the chainer (a worker's
    # chain-now task, beat) chains them in commit order under the advisory lock. SQLite: the write lock taken at BEGIN
    # (transaction_mode IMMEDIATE) orders the writers, which chain at once; with deferred
    # transactions writers fail "database is locked".
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                # Each thread has its own connection; each event is its own transaction, as in requests.
                with transaction.atomic():
                    audit_record(actor=None, action="view", case_id=n, details={"i": i})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    total = THREADS * EVENTS_EACH
    # No worker consumes the chain-now tasks here: this call chains what the writers committed.
    audit_chain_pending()
    assert AuditEvent.objects.filter(position__isnull=True).count() == 0
    positions = list(AuditEvent.objects.order_by("position").values_list("position", flat=True))
    assert positions == list(range(1, total + 1))
    for n in range(THREADS):
        assert AuditEvent.objects.filter(case_id=n).count() == EVENTS_EACH
    report = audit_chain_verify()
    assert report.intact, report.breaks
    assert report.events == total
