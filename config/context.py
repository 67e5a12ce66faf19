"""What the context variables of the project share: a value that holds for a block and is put back
after it (the acting agency, the audit context, replica reads)."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def bound(var: ContextVar[T], value: T) -> Iterator[T]:
    """`var` is `value` inside the block, and what it was before after it, however the block ends."""
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)
