"""Personal-data breaches: recorded by a system administrator, timed by the legal limit
(`personal_data_breach_notification` in notifications/data/time_limits.yaml), told to the supervisors
of the agencies affected, and linked to the access records (audit events) that raised the suspicion.

Who may do what:
- a system administrator (an active superuser) records, lists, reads and updates every breach;
- a supervisor of an affected agency reads the breaches of the agencies they supervise;
- nobody else sees anything (not other supervisors, not analysts, not responders, not staff
  without superuser rights).

The register is a package of the privacy app with the files every app has: `selectors` (reads),
`services` (writes), `serializers` (its one input declaration, for the API and the pages), `apis` +
`api_urls` (/api/breaches/), `views` + `urls` (/audit/breaches/, names `audit:breach…`). Its model,
`Breach`, is privacy's (privacy.models).
"""
