"""What the HTML pages of every app share."""

from functools import cached_property

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest


def flash_refusal(request: HttpRequest, exc: ValidationError, *, fields: bool = False) -> None:
    """Each message of a service's refusal flashed as an error; with fields, after the name of the field
    it is about (a page whose posted form has several fields and is not shown again)."""
    for field, texts in getattr(exc, "message_dict", {"": exc.messages}).items():
        for text in texts:
            messages.error(request, f"{field}: {text}" if fields and field and field != NON_FIELD_ERRORS else text)


# How many items a long list's pager counts before it says "more than": counting every case a busy
# agency sees (tens of thousands at a million cases) was most of the list page's database time, for a
# page count nobody pages through.
COUNT_BOUND = 1000


def count_bound(offset: int | None, per_page: int, least: int | None = None) -> int:
    """How many items the count of the page starting at `offset` reads at most: one more than `least`
    (COUNT_BOUND unless given) or than the items up to the end of that page, whichever is more; so that
    the page asked for, and the one after it when there is one, are known to exist."""
    return max(COUNT_BOUND if least is None else least, (offset or 0) + per_page) + 1


class BoundedPaginator(Paginator):
    """A Paginator whose count stops at `bound` (count_bound): a list that long has "more than"
    `known_pages` pages, and its pager links the page after the one shown as long as there is one.

    The list counts through `count_up_to(bound)` when it has one (read ahead with the page), else as a
    queryset's slice (`SELECT COUNT(*) FROM (... LIMIT bound)`)."""

    def __init__(self, object_list, per_page, *, bound: int):
        super().__init__(object_list, per_page)
        self.bound = bound

    @cached_property
    def count(self) -> int:
        count_up_to = getattr(self.object_list, "count_up_to", None)
        if count_up_to is not None:
            return min(count_up_to(self.bound), self.bound)
        return self.object_list[:self.bound].count()

    @property
    def more(self) -> bool:
        """Whether the list has more items than were counted: its last page is not known."""
        return self.count >= self.bound

    @property
    def known_pages(self) -> int:
        """The pages a list of more than `bound - 1` items has at least (its pager says "more than" these)."""
        return (self.bound - 1) // self.per_page
