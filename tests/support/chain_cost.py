"""The audit chainer's share of a measured request: none.

On PostgreSQL an audited request commits its event unchained; after the commit it at most sends a
"chain now" task to a worker (audit.services.audit_chain_soon), which runs no statement on the request's
connection. On SQLite the event is chained inside the request's own transaction (head + UPDATE), which
the budgets count as the request's. Query budgets check that no chainer transaction (the chain lock)
runs in a request, so that chaining cannot creep back onto the request path unnoticed."""

CHAIN_LOCK_CALLS = ("pg_try_advisory_xact_lock", "pg_advisory_xact_lock")


def without_chainer(sql: list[str]) -> list[str]:
    """The request's statements, after checking that none of them takes the chain lock."""
    chainer = [statement for statement in sql if any(call in statement for call in CHAIN_LOCK_CALLS)]
    assert not chainer, "the request ran the audit chainer:\n" + "\n".join(chainer)
    return sql


TRANSACTION_STATEMENTS = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT"}


def get_within_budget(client, url: str, budget: int, transactions: int) -> tuple[int, object]:
    """GET `url` (answered 200) within `budget` data statements, BEGIN/COMMIT of `transactions` on
    top and no chainer; returns (data statements, response)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    own = without_chainer([q["sql"] for q in captured.captured_queries])
    assert len(own) <= budget + 2 * transactions, (
        f"{url}: {len(own)} statements, budget {budget + 2 * transactions}:\n" + "\n".join(own))
    assert response.status_code == 200, response.content[:300]
    data = [sql for sql in own if sql.strip().upper() not in TRANSACTION_STATEMENTS]
    assert len(data) <= budget, f"{url}: {len(data)} data statements, budget {budget}:\n" + "\n".join(data)
    return len(data), response
