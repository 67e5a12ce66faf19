"""Signals of the cases app, for the features built above it (which cases may not import).

incident_recorded: another incident of an existing case was recorded (cases.services.incident_record),
sent inside the service's transaction with `incident`, `actor`, `agency` and `at`. The risk app makes
a review of the case's risk assessment due (risk.services.risk_review_after_incident).
"""

from django.dispatch import Signal

incident_recorded = Signal()
