"""Access rows: the policy's grants of one holder on one case, folded into as few rows as possible.

`permissions.policy` gives, per codename, disjoint validity intervals. Reads want one row per
(holder, case) in force at any instant, holding every right and every data category as bits, so
that "my agency's cases, newest first" is one index scan (cases.models.CaseAccessRow). The
intervals of all codenames are cut at every start and end; each piece holds the bits of the
codenames in force over it. Adjacent pieces with the same bits merge. Pure functions, no database.
"""

import datetime
from dataclasses import dataclass

from .categories import CaseRight, DataCategory, category_codename

# Bit of each right and of each data category: the order is stored in the database, append only.
RIGHT_BITS: dict[str, int] = {
    right: 1 << i for i, right in enumerate(
        (CaseRight.VIEW, CaseRight.CHANGE, CaseRight.LOG_ACTION, CaseRight.MANAGE_SHARING, CaseRight.CLOSE)
    )
}
CATEGORY_BITS: dict[str, int] = {
    category_codename(category): 1 << i for i, category in enumerate(
        (DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.MEDICAL, DataCategory.POLICE_LEGAL,
         DataCategory.EDUCATION, DataCategory.PSYCHOSOCIAL)
    )
}
VIEW_BIT = RIGHT_BITS[CaseRight.VIEW]


@dataclass(frozen=True)
class AccessPiece:
    """The bits one holder has on one case over [valid_from, valid_until) (None: no start, no end)."""

    valid_from: datetime.datetime | None
    valid_until: datetime.datetime | None
    rights: int
    categories: int


def codename_masks(codenames) -> tuple[int, int]:
    """(rights, categories) bits of a set of codenames; unknown codenames count for nothing."""
    rights = categories = 0
    for codename in codenames:
        rights |= RIGHT_BITS.get(codename, 0)
        categories |= CATEGORY_BITS.get(codename, 0)
    return rights, categories


def codenames_from_masks(rights: int, categories: int) -> set[str]:
    return {c for c, bit in RIGHT_BITS.items() if rights & bit} | {
        c for c, bit in CATEGORY_BITS.items() if categories & bit
    }


def _covers(valid_from, valid_until, start, end) -> bool:
    """Whether [valid_from, valid_until) contains the elementary piece [start, end)."""
    after_start = valid_from is None or (start is not None and valid_from <= start)
    before_end = valid_until is None or (end is not None and end <= valid_until)
    return after_start and before_end


def access_pieces(intervals) -> list[AccessPiece]:
    """`intervals`: (codename, valid_from, valid_until) triples of one holder on one case.
    The pieces, ordered by start, that together say which bits are in force at every instant."""
    intervals = list(intervals)
    instants = sorted({t for _, start, end in intervals for t in (start, end) if t is not None})
    bounds: list[datetime.datetime | None] = [None, *instants, None]
    pieces: list[AccessPiece] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        held = {codename for codename, valid_from, valid_until in intervals
                if _covers(valid_from, valid_until, start, end)}
        rights, categories = codename_masks(held)
        if not rights and not categories:
            continue
        last = pieces[-1] if pieces else None
        if last is not None and last.valid_until == start and (last.rights, last.categories) == (rights, categories):
            pieces[-1] = AccessPiece(last.valid_from, end, rights, categories)
        else:
            pieces.append(AccessPiece(start, end, rights, categories))
    return pieces


def grant_pieces(grants) -> list[AccessPiece]:
    """The pieces of one holder's `policy.AgencyGrants`."""
    return access_pieces(
        (codename, grant.valid_from, grant.valid_until)
        for codename, pieces in grants.grants.items() for grant in pieces
    )
