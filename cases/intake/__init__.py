"""The guided intake: opening a case in a few short steps on a phone.

Who, what happened, risk and safety, consent and sharing, then "check your answers". What was
typed is saved on the server at each step in an IntakeDraft (encrypted, owned by one person acting
for one agency, gone INTAKE_DRAFT_HOURS after its last save), so a timeout or a dropped connection
loses nothing. The steps add nothing to the rules: each step is checked with the same form
(cases.forms.CaseOpenForm), the same input serializers (cases.serializers) and the same domain rules
(cases.services) as the one-page form, and the last step calls cases.services.case_open, so every
domain rule still applies there.

The package has the files every app has: `steps` (the steps and their fields), `forms` (the form and
the check of one step), `selectors` (a person's drafts, the agencies they may open for, communes),
`services` (drafts created and saved), `views` (the pages, mounted by cases.urls at /cases/intake/)
and `receivers` (the offer of unfinished drafts after signing in).
"""
