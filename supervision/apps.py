from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    """Supervisors' accountability: the handoff register, reviews, access review, the dashboard."""

    name = "supervision"

    def ready(self):
        from notifications.sight import deadline_own_access_register

        from . import receivers  # noqa: F401 - connects the sign-in hook
        from .services import REVIEW_SUBJECT_PREFIX

        # A review's follow-up is listed and told by the reviewed subject's access, not the case's
        # (notifications.sight).
        deadline_own_access_register(REVIEW_SUBJECT_PREFIX)
