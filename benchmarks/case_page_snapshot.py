"""The case page as the benchmark's people see it, saved for comparing two versions of the code byte for byte.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_bench .venv/bin/python benchmarks/case_page_snapshot.py OUT

Signs in the people scale_mixed.py picks (16: responders of the busiest agencies, every 8th their supervisor)
as request_overhead.py does, and saves into the folder OUT each one's case page (/cases/<id>/) of six of their
agency's cases, four cases shared with their agency by another, and one case they may not see, in Vietnamese,
and every third also in English: the status line, then the page with its CSRF tokens and the idle seconds of
the session warning blanked (they differ at each request). Run it with one version of the code and another
on the same database, then `diff -r OUT1 OUT2`. It reads what the pages read and writes their audit events.
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from request_overhead import sign_in  # noqa: E402 - sets Django up
from scale_mixed import pick_sessions  # noqa: E402

from cases.models import Case, CaseAccessRow  # noqa: E402

_CHANGING = (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+(")'), re.compile(r'( data-idle-seconds=")\d+(")'))


def main(argv=None) -> int:
    out = Path((argv if argv is not None else sys.argv[1:])[0])
    out.mkdir(parents=True, exist_ok=True)
    pages = 0
    for person in pick_sessions(16):
        client = sign_in(person)
        seen = CaseAccessRow.objects.filter(agency_id=person.agency_id)
        shared = list(seen.exclude(case__lead_agency_id=person.agency_id).order_by("case_id")
                      .values_list("case_id", flat=True)[:4])
        unseen = list(Case.objects.exclude(pk__in=seen.values("case_id")).order_by("pk")
                      .values_list("pk", flat=True)[:1])
        for index, case_id in enumerate(person.cases[:6] + shared + unseen):
            for language in ("vi", "en") if index % 3 == 0 else ("vi",):
                response = client.get(f"/cases/{case_id}/", HTTP_ACCEPT_LANGUAGE=language)
                body = response.content.decode()
                for pattern in _CHANGING:
                    body = pattern.sub(r"\1-\2", body)
                (out / f"{person.username}-{case_id}-{language}.html").write_text(f"{response.status_code}\n{body}")
                pages += 1
    print(f"{pages} pages in {out}")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())
