"""The audit chainer's share of a measured request (audit.services._chain_on_commit).

On PostgreSQL an audited request commits its event unchained, then chains it after the commit in a
short transaction of its own: a try-lock, the head, the waiting events and one UPDATE. Query budgets
count that work separately, with its own fixed budget, so that a view's budget still measures the
view and the chainer's cost stays bounded and visible."""

CHAINER_STATEMENTS = 4  # try-lock, head, waiting events, one UPDATE


def split_chainer(sql: list[str]) -> tuple[list[str], list[str]]:
    """(the request's own statements, the chainer's), BEGIN/COMMIT kept in both."""
    own, chainer, in_chainer = [], [], False
    for index, statement in enumerate(sql):
        text = statement.strip()
        starts_chainer = (
            text.upper() == "BEGIN" and index + 1 < len(sql) and "pg_try_advisory_xact_lock" in sql[index + 1]
        )
        if starts_chainer:
            in_chainer = True
        (chainer if in_chainer else own).append(statement)
        if in_chainer and text.upper() == "COMMIT":
            in_chainer = False
    return own, chainer


def chainer_allowance(sql: list[str]) -> tuple[list[str], int]:
    """The request's own statements, after checking the chainer's share: at most CHAINER_STATEMENTS
    data statements in each of its transactions. Returns (own statements, chainer transactions)."""
    own, chainer = split_chainer(sql)
    transactions = sum(1 for s in chainer if s.strip().upper() == "BEGIN")
    data = [s for s in chainer if s.strip().upper() not in ("BEGIN", "COMMIT")]
    assert len(data) <= CHAINER_STATEMENTS * transactions, (
        f"the chainer ran {len(data)} statements in {transactions} transactions, budget "
        f"{CHAINER_STATEMENTS} each:\n" + "\n".join(data))
    return own, transactions


TRANSACTION_STATEMENTS = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT"}


def get_within_budget(client, url: str, budget: int, transactions: int) -> tuple[int, object]:
    """GET `url` (answered 200) within `budget` data statements, BEGIN/COMMIT of `transactions` on
    top and the chainer's work apart; returns (data statements, response)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    own, _chainer_transactions = chainer_allowance([q["sql"] for q in captured.captured_queries])
    assert len(own) <= budget + 2 * transactions, (
        f"{url}: {len(own)} statements, budget {budget + 2 * transactions}:\n" + "\n".join(own))
    assert response.status_code == 200, response.content[:300]
    data = [sql for sql in own if sql.strip().upper() not in TRANSACTION_STATEMENTS]
    assert len(data) <= budget, f"{url}: {len(data)} data statements, budget {budget}:\n" + "\n".join(data)
    return len(data), response
