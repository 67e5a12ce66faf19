"""Which published counts count children: the one place that decides it.

A count counts children when the people it describes are all under 18 as far as the report can
tell, or are very few by construction:

* an age band under 18 (0–11, 12–17) in any table;
* the child age groups under 16 and 16–17 (the child_cases table);
* technology-facilitated forms that only exist against children (online grooming, child sexual
  exploitation material), whatever the age recorded;
* risk assessments made with the child form (the high_risk_assessments table);
* any count of one commune (small areas: the commune tables are published under the child
  threshold as a whole).

Such a count is published under REPORT_CHILD_THRESHOLD, every other under
REPORT_SMALL_COUNT_THRESHOLD. The decision is made on the count's key (its population and the
filters that define it, see reports.publication.entry_keys), so a count shared by two tables has
one threshold in both. Totals over adults and children (a row total over every age band) are
not child counts.
"""

from collections.abc import Iterable

from cases.models import TechForm

CHILD_VALUES: dict[str, frozenset[str]] = {
    "age_band": frozenset({"0-11", "12-17"}),
    "child_age_group": frozenset({"under_16", "16_17"}),
    "tech_form": frozenset({TechForm.GROOMING.value, TechForm.CSEM.value}),
    # Risk assessments with the child form (Decree 56's initial assessment): of children by construction.
    "assessment_form": frozenset({"child"}),
}
# Every value of these dimensions makes a child count (small areas).
CHILD_DIMENSIONS = frozenset({"commune"})


def is_child_count(filters: Iterable[tuple[str, str]]) -> bool:
    """Whether the count defined by these (dimension, value) filters counts children."""
    for dimension, value in filters:
        if dimension in CHILD_DIMENSIONS:
            return True
        if value in CHILD_VALUES.get(dimension, ()):
            return True
    return False
