from django.utils.functional import SimpleLazyObject


def intake_resume(request):
    """After signing in, the first page offers the person's unfinished cases (cases.intake). Costs
    no query unless the sign-in found drafts."""
    from .intake.receivers import RESUME_SESSION_KEY
    from .intake.selectors import acting_opening_agency, drafts_of

    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or not user.is_authenticated or not session.get(RESUME_SESSION_KEY):
        return {}
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name in ("accounts:login", "accounts:mfa_verify", "accounts:mfa_setup"):
        return {}

    def drafts():
        _agencies, agency = acting_opening_agency(user=user)
        if agency is None:
            # A person of several agencies is offered them once they choose the agency they act for.
            return []
        session.pop(RESUME_SESSION_KEY, None)
        return list(drafts_of(user=user, agency_id=agency.pk)[:3])

    return {"unfinished_intakes": SimpleLazyObject(drafts)}
