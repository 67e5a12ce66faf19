"""The English texts of notifications/data/time_limits.yaml, spelled out for makemessages.

A time limit's description is data (English in the YAML file and the database) that
LegalTimeLimit.label translates at display time with gettext. makemessages reads only Python and
templates, so without this list the descriptions would never reach the catalogues and would show in
English. The legal sources are data of the same kind, translated where the case page shows them.
tests/accounts/test_translations.py fails when the YAML file and these lists disagree.
"""

from django.utils.translation import gettext_noop

TIME_LIMIT_DESCRIPTIONS = (
    gettext_noop("Child at serious risk: emergency intervention"),
    gettext_noop("Child support and intervention plan"),
    gettext_noop("Domestic violence: commune chair decides on a ban on contact"),
    gettext_noop("Domestic violence: ban on contact decided by the commune chair"),
    gettext_noop("Ban on contact decided by a court"),
    gettext_noop("Platform removes unlawful content on an authority's request"),
    gettext_noop("Platform removes unlawful content on a user's complaint"),
    gettext_noop("Personal-data breach notification"),
    gettext_noop("Data-subject request: acknowledge"),
    gettext_noop("Data-subject request: complete"),
    gettext_noop("Handoff response: emergency"),
    gettext_noop("Handoff response: urgent"),
    gettext_noop("Handoff response: standard"),
)

TIME_LIMIT_SOURCES = (
    gettext_noop("Decree 56/2017/ND-CP Art. 26"),
    gettext_noop("Decree 56/2017/ND-CP Art. 28"),
    gettext_noop("Law 13/2022/QH15 Art. 25"),
    gettext_noop("Law 13/2022/QH15 Art. 26"),
    gettext_noop("Decree 147/2024/ND-CP"),
    gettext_noop("Decree 13/2023/ND-CP Art. 23; Law 91/2025/QH15"),
    gettext_noop("Decree 356/2025/ND-CP"),
    gettext_noop("Service standard (operational default, configurable)"),
)
