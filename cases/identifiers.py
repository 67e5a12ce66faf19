"""What in a free text names a case or a telephone: text that leaves the case for good (a monthly
report's correction reason, published with the report and never changed) is checked with it."""

import re

# A case number as cases.services.case_number_next makes it: "<province abbreviation>-<year>-<6 digits>".
CASE_NUMBER_IN_TEXT = re.compile(r"\b[A-Z]{2,4}-\d{4}-\d{6}\b", re.IGNORECASE)
# Nine digits or more in one run of digits, spaces, dots and dashes (0912 345 678, +84 912.345.678).
PHONE_IN_TEXT = re.compile(r"\+?\d(?:[ .-]?\d){8,}")


def text_names_a_case_or_phone(text: str) -> bool:
    return bool(CASE_NUMBER_IN_TEXT.search(text) or PHONE_IN_TEXT.search(text))
