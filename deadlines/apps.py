from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    """A case's deadlines: the legal time limits a case starts, the follow-ups and action plans
    responders set, their pages and API. The rows are notifications.models.Deadline, swept by
    notifications (reminders, overdue, escalation); a handoff's response deadline is the handoff's."""

    name = "deadlines"

    def ready(self):
        # cases tells its moments and the deadline sweep (notifications) its stages without
        # importing this app; these receivers act on them in the sender's transaction.
        from cases import signals as case_signals
        from notifications.signals import deadline_stage_reached

        from . import receivers
        from .services import deadline_stage_timeline

        case_signals.case_opened.connect(receivers.case_opened, dispatch_uid="deadlines.case_opened")
        case_signals.action_logged.connect(receivers.action_logged, dispatch_uid="deadlines.action_logged")
        case_signals.case_closed.connect(receivers.case_closed, dispatch_uid="deadlines.case_closed")
        deadline_stage_reached.connect(deadline_stage_timeline, dispatch_uid="deadlines.deadline_stage_timeline")
        # The case page reads no deadline for a case without an open one (cases.selectors).
        from cases.selectors import case_page_probe_register

        from .selectors import DEADLINES_PANEL, case_open_deadlines

        case_page_probe_register(DEADLINES_PANEL, case_open_deadlines)
