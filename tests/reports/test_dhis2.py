"""Pushing to DHIS2, against a fake DHIS2 server: a real HTTP server on 127.0.0.1 that answers
`POST /api/dataValueSets` as DHIS2 does (dryRun, importStrategy CREATE_AND_UPDATE / DELETE, the
import summary), keeps the data values it holds, and records every request.

What it pins down: a push keeps DHIS2 in step with the report (after v1 then v2, DHIS2 holds
exactly v2's published numbers: nothing v1 published and v2 hides stays behind), every payload
names the data set, and a mapping with placeholder UIDs never pushes."""

import base64
import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import translation

from reports.dhis2 import (
    Dhis2Error,
    dhis2_mapping_load,
    report_data_value_deletions,
    report_data_value_set,
    report_dhis2_push,
)
from reports.disclosure import COMPLEMENTARY_MARK
from reports.models import MonthlyReport
from reports.services import content_hash

USER, PASSWORD = "hopluc", "s3cret"


class FakeDhis2(ThreadingHTTPServer):
    """DHIS2's dataValueSets import, as documented: values are keyed by period, org unit, data
    element and category option combo; DELETE removes a value it holds and ignores one it does
    not; a dry run changes nothing. `answers` replaces the next answers, (status, JSON body)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.store: dict[tuple[str, str, str, str], str] = {}
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        # Raw bytes to answer instead of HTTP (None: never answer), for the next requests.
        self.raw_answers: list[bytes | None] = []
        self.released = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def values(self, period: str, org_unit: str) -> dict[tuple[str, str], str]:
        return {(de, coc): v for (pe, ou, de, coc), v in self.store.items() if (pe, ou) == (period, org_unit)}

    def handle_import(self, query: dict, payload: dict) -> tuple[int, dict]:
        strategy = query.get("importStrategy", "CREATE_AND_UPDATE")
        dry_run = query.get("dryRun") == "true"
        counts = {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0}
        conflicts = []
        if not payload.get("dataSet"):
            conflicts.append({"object": "dataSet", "value": "Data set not found or not accessible"})
        for value in payload.get("dataValues", []):
            key = (payload["period"], payload["orgUnit"], value["dataElement"], value["categoryOptionCombo"])
            if strategy == "DELETE":
                if key in self.store:
                    counts["deleted"] += 1
                    if not dry_run:
                        del self.store[key]
                else:
                    counts["ignored"] += 1
            elif strategy == "CREATE_AND_UPDATE":
                counts["updated" if key in self.store else "imported"] += 1
                if not dry_run:
                    self.store[key] = value["value"]
            else:
                return 409, {"httpStatus": "Conflict", "message": f"unexpected strategy {strategy}"}
        summary = {
            "responseType": "ImportSummary", "status": "WARNING" if conflicts else "SUCCESS",
            "importOptions": {"dryRun": dry_run, "importStrategy": strategy}, "importCount": counts,
            "conflicts": conflicts,
        }
        return 200, {"httpStatus": "OK", "httpStatusCode": 200, "status": "OK", "response": summary}


class _Handler(BaseHTTPRequestHandler):
    server: FakeDhis2

    def log_message(self, *args):
        pass

    def do_POST(self):
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        payload = json.loads(body or b"{}")
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        with self.server.lock:
            self.server.requests.append({"path": parts.path, "query": query, "payload": payload,
                                         "authorization": self.headers.get("Authorization")})
            raw = self.server.raw_answers.pop(0) if self.server.raw_answers else False
        if raw is not False:
            self.close_connection = True
            if raw is None:
                self.server.released.wait(timeout=10)  # until the test is over: the client times out
            else:
                self.wfile.write(raw)
            return
        with self.server.lock:
            if self.server.answers:
                status, document = self.server.answers.pop(0)
            elif self.headers.get("Authorization") != expected:
                status, document = 401, {"httpStatus": "Unauthorized", "status": "ERROR"}
            elif parts.path != "/api/dataValueSets":
                status, document = 404, {"httpStatus": "Not Found", "status": "ERROR"}
            else:
                status, document = self.server.handle_import(query, payload)
        out = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture
def real_mapping(tmp_path) -> Path:
    """The example mapping with its placeholder UIDs replaced, as an installation would."""
    text = Path(django_settings.DHIS2_MAPPING_FILE).read_text(encoding="utf-8").replace('"Xmpl', '"Hopl')
    path = tmp_path / "mapping.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def dhis2_server(settings, real_mapping):
    server = FakeDhis2()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.DHIS2_URL = server.url
    settings.DHIS2_USER, settings.DHIS2_PASSWORD = USER, PASSWORD
    settings.DHIS2_MAPPING_FILE = real_mapping
    yield server
    server.released.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def world(published):
    return published.world


def _published(report) -> dict[tuple[str, str], str]:
    return {(v["dataElement"], v["categoryOptionCombo"]): v["value"]
            for v in report_data_value_set(report)["dataValues"]}


def _correction(report: MonthlyReport, *, hide: int, withhold: str) -> MonthlyReport:
    """Version 2 of `report` as a correction could publish it: the first `hide` published row totals
    hidden, and one table withheld. Written directly: what is published in a
    correction is the disclosure control's business, how DHIS2 follows it is this module's."""
    data = copy.deepcopy(report.data)
    hidden = 0
    for table in data["tables"]:
        if table["key"] != withhold and not table["withheld"]:
            for j, value in enumerate(table["row_totals"]):
                if isinstance(value, int) and value > 0 and hidden < hide:
                    table["row_totals"][j], hidden = COMPLEMENTARY_MARK, hidden + 1
        if table["key"] == withhold:
            table["withheld"] = True
            table["cells"] = [[None] * len(row) for row in table["cells"]]
            table["row_totals"] = [None] * len(table["row_totals"])
            table["column_totals"] = [None] * len(table["column_totals"])
            table["total"] = None
    assert hidden == hide
    return MonthlyReport.objects.create(
        province_id=report.province_id, period=report.period, version=report.version + 1,
        published_at=report.published_at, data=data, content_hash=content_hash(data),
        code_version=report.code_version, reason="Sửa lỗi nhập liệu", supersedes=report,
    )


def test_a_correction_leaves_no_stale_value_in_dhis2(reports, dhis2_server):
    v1 = reports["01"]
    report_dhis2_push(report=v1)
    report_dhis2_push(report=reports[None])
    sent_v1 = _published(v1)
    assert sent_v1 and dhis2_server.values("202610", "VN01") == sent_v1
    national = dhis2_server.values("202610", "VN")
    assert national == _published(reports[None])

    v2 = _correction(v1, hide=3, withhold="tech_forms")
    sent_v2 = _published(v2)
    stale = set(sent_v1) - set(sent_v2)
    assert len(stale) >= 4  # three hidden cells and the withheld table's values at least
    dhis2_server.requests.clear()
    responses = report_dhis2_push(report=v2)

    # DHIS2 now holds exactly what v2 publishes: nothing v1 sent and v2 hides is left standing.
    assert dhis2_server.values("202610", "VN01") == sent_v2
    assert not stale & set(dhis2_server.values("202610", "VN01"))
    assert dhis2_server.values("202610", "VN") == national  # the other scope is untouched
    # In one push: both requests as dry runs, then both for real; deletions first.
    steps = [(r["query"]["importStrategy"], r["query"]["dryRun"]) for r in dhis2_server.requests]
    assert steps == [("DELETE", "true"), ("CREATE_AND_UPDATE", "true"), ("DELETE", "false"),
                     ("CREATE_AND_UPDATE", "false")]
    assert [(r.strategy, r.dry_run) for r in responses] == [(s, d == "true") for s, d in steps]
    assert responses[2].deleted == len(stale)
    for request in dhis2_server.requests:
        assert request["path"] == "/api/dataValueSets"
        assert request["query"]["orgUnitIdScheme"] == "CODE"
        assert request["payload"]["dataSet"] == dhis2_mapping_load()["data_set"]
        assert (request["payload"]["period"], request["payload"]["orgUnit"]) == ("202610", "VN01")
    deleted = {(v["dataElement"], v["categoryOptionCombo"]) for v in dhis2_server.requests[2]["payload"]["dataValues"]}
    assert stale <= deleted and not deleted & set(sent_v2)
    assert all("value" not in v for v in dhis2_server.requests[2]["payload"]["dataValues"])


def test_pushing_again_or_out_of_order_converges(reports, dhis2_server):
    """The push is idempotent, and a push of v2 to a DHIS2 that never saw v1 (or saw it twice)
    ends in the same state; deleting a value DHIS2 does not hold is only "ignored"."""
    v1 = reports["01"]
    v2 = _correction(v1, hide=2, withhold="reporting_delay")
    report_dhis2_push(report=v2)
    assert dhis2_server.values("202610", "VN01") == _published(v2)
    report_dhis2_push(report=v1)
    report_dhis2_push(report=v1)
    assert dhis2_server.values("202610", "VN01") == _published(v1)
    report_dhis2_push(report=v2)
    assert dhis2_server.values("202610", "VN01") == _published(v2)


def test_the_deletions_cover_hidden_cells_and_earlier_versions_only(reports, real_mapping, settings):
    settings.DHIS2_MAPPING_FILE = real_mapping
    v1 = reports[None]
    deletions = report_data_value_deletions(v1)
    assert deletions["dataSet"] and deletions["orgUnit"] == "VN" and deletions["period"] == "202610"
    keys = {(v["dataElement"], v["categoryOptionCombo"]) for v in deletions["dataValues"]}
    assert keys and not keys & set(_published(v1))  # v1 hides some cells: they are cleared, never sent


def test_dry_run_only_changes_nothing(reports, dhis2_server):
    responses = report_dhis2_push(report=reports["01"], dry_run_only=True)
    assert all(r.dry_run for r in responses)
    assert dhis2_server.store == {}
    assert {r["query"]["dryRun"] for r in dhis2_server.requests} == {"true"}


def test_a_dry_run_with_conflicts_stops_the_push(reports, dhis2_server):
    summary = {"status": "WARNING", "importCount": {"imported": 0}, "conflicts": [{"object": "HoplDEN0029"}]}
    dhis2_server.answers.append((200, {"httpStatus": "OK", "response": summary}))
    with pytest.raises(Dhis2Error, match="dry run"):
        report_dhis2_push(report=reports[None])
    assert len(dhis2_server.requests) == 1 and dhis2_server.store == {}


def test_http_and_network_errors_are_reported(reports, dhis2_server, settings):
    settings.DHIS2_PASSWORD = "wrong"
    with pytest.raises(Dhis2Error, match="401"):
        report_dhis2_push(report=reports[None])
    settings.DHIS2_PASSWORD = PASSWORD
    dhis2_server.answers.append((500, {"status": "ERROR"}))
    with pytest.raises(Dhis2Error, match="500"):
        report_dhis2_push(report=reports[None])
    settings.DHIS2_URL = "http://127.0.0.1:9/"  # the discard port: nothing listens
    with pytest.raises(Dhis2Error, match="reached"):
        report_dhis2_push(report=reports[None])
    assert dhis2_server.store == {}


@pytest.mark.parametrize("summary", [
    {"status": "SUCCESS", "importCount": "all of them"},
    {"status": "SUCCESS", "importCount": {"imported": "many"}},
    {"status": "SUCCESS", "importCount": {"imported": None}},
    {"status": "SUCCESS", "importCount": {"imported": 1e400}},
    {"status": "SUCCESS", "importCount": {"imported": 1}, "conflicts": 5},
])
def test_an_answer_that_is_not_an_import_summary_stops_the_push(reports, dhis2_server, summary):
    """JSON, but not what DHIS2 answers: a message and a non-zero exit, not a TypeError's traceback, and
    nothing imported."""
    dhis2_server.answers.append((200, {"httpStatus": "OK", "response": summary}))
    with pytest.raises(CommandError, match="not an import summary"):
        call_command("push_monthly_report_to_dhis2", "--month", "2026-10", "--scope", "national", stdout=StringIO())
    assert len(dhis2_server.requests) == 1 and dhis2_server.store == {}


@pytest.mark.parametrize("raw, message", [
    (b"garbage\r\n\r\n", "not an HTTP answer"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"response\"",
     "not an HTTP answer"),
    (None, "timed out"),
])
def test_an_answer_that_is_not_http_or_never_comes_stops_the_push(reports, dhis2_server, settings, raw, message):
    settings.DHIS2_TIMEOUT = 0.5
    dhis2_server.raw_answers.append(raw)
    with pytest.raises(CommandError, match=message):
        call_command("push_monthly_report_to_dhis2", "--month", "2026-10", "--scope", "national", stdout=StringIO())
    assert len(dhis2_server.requests) == 1 and dhis2_server.store == {}


def test_a_push_that_fails_half_way_is_finished_by_pushing_again(reports, dhis2_server):
    """The dry runs were clean, the deletions went in, then DHIS2 failed on the values: the command fails,
    and pushing again leaves DHIS2 holding exactly what the report publishes."""
    report = reports[None]
    report_dhis2_push(report=report)
    dhis2_server.requests.clear()
    ok = (200, {"httpStatus": "OK", "response": {"status": "SUCCESS", "importCount": {}, "conflicts": []}})
    dhis2_server.answers += [ok, ok, ok, (503, {"httpStatus": "Service Unavailable", "status": "ERROR"})]
    dhis2_server.store.clear()
    with pytest.raises(CommandError, match="503"):
        call_command("push_monthly_report_to_dhis2", "--month", "2026-10", "--scope", "national", stdout=StringIO())
    assert dhis2_server.values("202610", "VN") == {}
    call_command("push_monthly_report_to_dhis2", "--month", "2026-10", "--scope", "national", stdout=StringIO())
    assert dhis2_server.values("202610", "VN") == _published(report)


def test_push_is_off_without_a_server(reports, settings):
    settings.DHIS2_URL = ""
    with pytest.raises(Dhis2Error, match="DHIS2_URL"):
        report_dhis2_push(report=reports[None])


def test_the_example_mapping_with_placeholder_uids_never_pushes(reports, dhis2_server, settings):
    settings.DHIS2_MAPPING_FILE = django_settings.BASE_DIR / "reports" / "dhis2_mapping.example.json"
    with pytest.raises(Dhis2Error, match="placeholder UID"):
        report_dhis2_push(report=reports[None])
    with pytest.raises(CommandError, match="placeholder UID.*XmplCOC0001"):
        call_command("push_monthly_report_to_dhis2", "--month", "2026-10", "--scope", "national", stdout=StringIO())
    assert dhis2_server.requests == []
    # Downloading the DHIS2 JSON still works with it: it names the (placeholder) data set.
    assert report_data_value_set(reports[None])["dataSet"] == "XmplDST0000"


def test_the_mapping_requires_a_data_set_and_real_uids(real_mapping):
    mapping = json.loads(real_mapping.read_text(encoding="utf-8"))
    assert dhis2_mapping_load(real_mapping)["data_set"] == "HoplDST0000"
    for broken, message in (
        ({**mapping, "data_set": ""}, '"data_set" is required'),
        ({k: v for k, v in mapping.items() if k != "data_set"}, '"data_set" is required'),
        ({**mapping, "data_set": "not-a-uid"}, "not a DHIS2 UID"),
        ({**mapping, "category_option_combos": {**mapping["category_option_combos"], "male|0-11": "1abc"}},
         "male|0-11"),
        # A province's org unit code is made with str.format: a placeholder other than {code} failed at the push
        # (KeyError, IndexError, ValueError tracebacks), after the mapping had been accepted.
        ({**mapping, "org_units": {"national": "VN", "province": "VN{province}"}}, '"org_units"'),
        ({**mapping, "org_units": {"national": "VN", "province": "VN{0}"}}, '"org_units"'),
        ({**mapping, "org_units": {"national": "VN", "province": "VN{code"}}, '"org_units"'),
        ({**mapping, "org_units": {"national": 7, "province": "VN{code}"}}, '"org_units"'),
        # Lists where objects are read: AttributeError tracebacks, at the load or at the push.
        ({**mapping, "category_option_combos": []}, '"category_option_combos" must be an object'),
        ({**mapping, "data_elements": []}, '"data_elements" must be an object'),
        ({**mapping, "statistics": []}, '"statistics" must be an object'),
        ({**mapping, "data_elements": {"incidents_by_type_sex_age": {"by": "columns", "rows": []}}},
         '"rows" must be an object'),
        ({**mapping, "data_elements": {"incidents_by_type_sex_age": {"by": "cells", "cells": "x"}}},
         '"cells" must be an object'),
    ):
        real_mapping.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(Dhis2Error, match=message):
            dhis2_mapping_load(real_mapping)


def test_push_command(reports, dhis2_server):
    out = StringIO()
    call_command("push_monthly_report_to_dhis2", "--month", "2026-10", "--scope", "national", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and all("SUCCESS" in line for line in lines)
    assert dhis2_server.values("202610", "VN") == _published(reports[None])
    with pytest.raises(CommandError):
        call_command("push_monthly_report_to_dhis2", "--month", "2026-09", "--scope", "national", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("push_monthly_report_to_dhis2", "--month", "2026/10", "--scope", "national", stdout=StringIO())


@pytest.mark.parametrize("args", [["--month", "2026-10", "--scope", "province:0\x001"],
                                  ["--month", "2026-1\x000", "--scope", "national"]])
def test_push_command_refuses_a_nul_character(reports, dhis2_server, args):
    with pytest.raises(CommandError, match="NUL"), translation.override("en"):
        call_command("push_monthly_report_to_dhis2", *args, stdout=StringIO())
    assert dhis2_server.requests == []


def test_the_task_pushes_the_newest_version(reports, dhis2_server):
    """A push queued when v1 was published and run after v2 was sends v2, not v1's figures."""
    from reports.tasks import push_monthly_report_to_dhis2

    v1 = reports["01"]
    v2 = _correction(v1, hide=1, withhold="tech_forms")
    assert push_monthly_report_to_dhis2(v1.pk) == ["SUCCESS"] * 4
    assert dhis2_server.values("202610", "VN01") == _published(v2)
