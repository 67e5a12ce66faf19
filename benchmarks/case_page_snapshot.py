"""The case page as the benchmark's people see it, saved for comparing two versions of the code byte for byte.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hopluc_bench .venv/bin/python benchmarks/case_page_snapshot.py \\
        [--lists] OUT

Signs in the people scale_mixed.py picks (16: responders of the busiest agencies, every 8th their supervisor)
as request_overhead.py does, and saves into the folder OUT each one's case page (/cases/<id>/) of six of their
agency's cases, four cases shared with their agency by another, and one case they may not see, in Vietnamese,
and every third also in English: the status line, then the page with its CSRF tokens and the idle seconds of
the session warning blanked (they differ at each request). Run it with one version of the code and another
on the same database, then `diff -r OUT1 OUT2`. It reads what the pages read and writes their audit events.
With --lists, each of the first eight people's other pages of the mixed load too, in Vietnamese and English:
the case list (its first and second page, and filtered by status), the incoming and outgoing handoffs and
up to four of their handoffs' pages. Compare two runs made without writes in between (a benchmark that
logs actions changes the timelines and the lists).
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


def _save(client, out: Path, name: str, path: str, language: str) -> None:
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    body = response.content.decode()
    for pattern in _CHANGING:
        body = pattern.sub(r"\1-\2", body)
    (out / f"{name}-{language}.html").write_text(f"{response.status_code}\n{body}")


def main(argv=None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    lists = "--lists" in args
    out = Path([arg for arg in args if arg != "--lists"][0])
    out.mkdir(parents=True, exist_ok=True)
    pages = 0
    for number, person in enumerate(pick_sessions(16)):
        client = sign_in(person)
        if lists and number < 8:
            paths = ["/cases/", "/cases/?page=2", "/cases/?status=open", "/handoffs/incoming/",
                     "/handoffs/outgoing/", *(f"/handoffs/{handoff}/" for handoff in person.handoffs[:4])]
            for path in paths:
                for language in ("vi", "en"):
                    name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
                    _save(client, out, f"{person.username}-{name}", path, language)
                    pages += 1
        seen = CaseAccessRow.objects.filter(agency_id=person.agency_id)
        shared = list(seen.exclude(case__lead_agency_id=person.agency_id).order_by("case_id")
                      .values_list("case_id", flat=True)[:4])
        unseen = list(Case.objects.exclude(pk__in=seen.values("case_id")).order_by("pk")
                      .values_list("pk", flat=True)[:1])
        for index, case_id in enumerate(person.cases[:6] + shared + unseen):
            for language in ("vi", "en") if index % 3 == 0 else ("vi",):
                _save(client, out, f"{person.username}-{case_id}", f"/cases/{case_id}/", language)
                pages += 1
    print(f"{pages} pages in {out}")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())
