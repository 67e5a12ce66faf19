"""Moments of a case that other apps act on inside the same transaction, without cases importing them
(DESIGN's arrows point from those apps to cases). Sent with `send`, not `send_robust`: a receiver
that fails rolls the change back with it.

Received by deadlines (deadlines.apps): a child's legal time limits start when her case opens; an
action logged, or the case closing, closes the deadlines it meets.

case_reopened: the case left `closed` (cases.services.case_change_status), sent inside the service's
transaction, with the case locked, with `actor`, `agency` and `at`. Privacy (privacy.apps) cancels the
case's pending retention notice: closing it again starts the count again from its new closing.

incident_recorded: another incident of an existing case was recorded (cases.services.incident_record),
sent inside the service's transaction with `incident`, `actor`, `agency` and `at`. The risk app makes
a review of the case's risk assessment due (risk.services.risk_review_after_incident).
"""

from django.dispatch import Signal

# case, opened_at
case_opened = Signal()
# case, action
action_logged = Signal()
# case, actor, agency, at
case_closed = Signal()
# case, actor, agency, at
case_reopened = Signal()
# incident, actor, agency, at
incident_recorded = Signal()
