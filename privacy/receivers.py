def case_anonymised_shred(sender, *, case_id: int, **kwargs) -> None:
    """Whoever anonymises a case (retention, a request, an operator), this app's text about it goes
    too: a request's details and outcomes and its package are sealed under the key ring, not the case
    key (the request outlives the erased case), so they are blanked here."""
    from .services import privacy_text_shred

    privacy_text_shred(case_id=case_id)
