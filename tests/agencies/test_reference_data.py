"""load_provinces and load_communes: the reference data every agency and case points at."""

import json
from io import StringIO

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError

from agencies.models import Commune, Province
from agencies.reference_data import PROVINCES_FILE

pytestmark = pytest.mark.usefixtures("english")

HEADER = "code,name,province_code,valid_from,valid_to\n"


@pytest.fixture
def provinces(db):
    call_command("load_provinces", stdout=StringIO())


def write_csv(tmp_path, text: str, name: str = "communes.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def load(path: str) -> str:
    out = StringIO()
    call_command("load_communes", path, stdout=out)
    return out.getvalue()


def load_fails(path: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        load(path)
    return str(excinfo.value)


# --- provinces -----------------------------------------------------------------------------------


def test_load_provinces_creates_the_34_units_with_unique_abbreviations(db):
    out = StringIO()
    call_command("load_provinces", stdout=out)
    assert "34 created" in out.getvalue()
    assert Province.objects.count() == 34
    abbreviations = list(Province.objects.values_list("abbreviation", flat=True))
    assert len(set(abbreviations)) == 34
    assert all(2 <= len(a) <= 4 and a.isascii() and a.isalpha() and a.isupper() for a in abbreviations)
    assert Province.objects.get(name="Hà Nội").abbreviation == "HN"
    assert Province.objects.get(name="Huế").abbreviation == "HUE"
    hcm = Province.objects.get(code="79")
    assert (hcm.abbreviation, hcm.type, str(hcm.valid_from)) == ("HCM", "city", "2025-07-01")
    assert Province.objects.filter(type="city").count() == 6


def test_load_provinces_twice_changes_nothing(db):
    call_command("load_provinces", stdout=StringIO())
    before = list(Province.objects.values_list("pk", "code", "name", "abbreviation").order_by("pk"))
    out = StringIO()
    call_command("load_provinces", stdout=out)
    assert "0 created, 0 updated, 34 unchanged" in out.getvalue()
    assert list(Province.objects.values_list("pk", "code", "name", "abbreviation").order_by("pk")) == before


def test_load_provinces_updates_changed_rows_and_swaps_abbreviations(db, tmp_path):
    call_command("load_provinces", stdout=StringIO())
    Province.objects.filter(code="01").update(name="Ha Noi (old)")
    document = json.loads(PROVINCES_FILE.read_text(encoding="utf-8"))
    by_code = {unit["code"]: unit for unit in document["units"]}
    by_code["04"]["abbreviation"], by_code["11"]["abbreviation"] = "DB", "CB"
    path = tmp_path / "provinces.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    out = StringIO()
    call_command("load_provinces", "--file", str(path), stdout=out)
    assert "0 created, 3 updated, 31 unchanged" in out.getvalue()
    assert Province.objects.get(code="01").name == "Hà Nội"
    assert Province.objects.get(code="04").abbreviation == "DB"
    assert Province.objects.get(code="11").abbreviation == "CB"


def test_load_provinces_refuses_a_file_with_a_repeated_abbreviation(db, tmp_path):
    document = json.loads(PROVINCES_FILE.read_text(encoding="utf-8"))
    document["units"][1]["abbreviation"] = "HN"
    document["units"][2]["abbreviation"] = "hn1"
    path = tmp_path / "provinces.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("load_provinces", "--file", str(path), stdout=StringIO())
    message = str(excinfo.value)
    assert "unit 2: abbreviation HN is already used by Hà Nội" in message
    assert "unit 3: abbreviation 'hn1' must be 2 to 4 capital letters" in message
    assert Province.objects.count() == 0


def test_load_provinces_refuses_an_abbreviation_held_by_a_stored_province(db):
    Province.objects.create(
        code="99", name="Old unit", name_ascii="Old unit", abbreviation="HUE", type="province", valid_from="2020-01-01"
    )
    with pytest.raises(CommandError) as excinfo:
        call_command("load_provinces", stdout=StringIO())
    assert "Huế: abbreviation HUE is already used by the stored province 99" in str(excinfo.value)
    assert Province.objects.count() == 1


def test_load_provinces_refuses_a_nul_or_a_name_that_is_not_text(db, tmp_path):
    document = json.loads(PROVINCES_FILE.read_text(encoding="utf-8"))
    document["units"][0]["name"] = "Hà\x00Nội"
    document["units"][1]["abbreviation"] = 12
    path = tmp_path / "provinces.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("load_provinces", "--file", str(path), stdout=StringIO())
    assert "unit 1: name must be text, not empty, with no NUL character" in str(excinfo.value)
    assert "unit 2: abbreviation must be text" in str(excinfo.value)
    assert Province.objects.count() == 0


def test_load_provinces_reports_an_unreadable_file(db, tmp_path):
    path = tmp_path / "provinces.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="not a province file"):
        call_command("load_provinces", "--file", str(path), stdout=StringIO())


# --- communes: good files ------------------------------------------------------------------------


def test_load_communes_creates_then_reruns_idempotently(provinces, tmp_path):
    path = write_csv(tmp_path, HEADER + (
        "00004,Phường Ba Đình,01,2025-07-01,\n"
        "00008,Phường Ngọc Hà,01,2025-07-01,\n"
        "19753,Phường Thuận Hóa,46,2025-07-01,2026-01-01\n"
        "19753,Phường Thuận Hóa mới,46,2026-01-01,\n"
    ))
    assert "4 created, 0 updated, 0 unchanged" in load(path)
    assert "0 created, 0 updated, 4 unchanged" in load(path)
    assert Commune.objects.count() == 4
    renamed = Commune.objects.get(code="19753", valid_from="2026-01-01")
    assert (renamed.name, renamed.province.name, renamed.valid_to) == ("Phường Thuận Hóa mới", "Huế", None)


def test_load_communes_updates_by_code_and_valid_from(provinces, tmp_path):
    load(write_csv(tmp_path, HEADER + "00004,Phường Ba Đình,01,2025-07-01,\n"))
    pk = Commune.objects.get().pk
    out = load(write_csv(tmp_path, HEADER + "00004,Phường Ba Đình (sửa),01,2025-07-01,2027-01-01\n", "v2.csv"))
    assert "0 created, 1 updated, 0 unchanged" in out
    commune = Commune.objects.get()
    assert (commune.pk, commune.name, str(commune.valid_to)) == (pk, "Phường Ba Đình (sửa)", "2027-01-01")


def test_load_communes_accepts_a_byte_order_mark_and_no_valid_to_column(provinces, tmp_path):
    path = write_csv(tmp_path, "\ufeffcode,name,province_code,valid_from\n00004,Phường Ba Đình,01,2025-07-01\n")
    assert "1 created" in load(path)


def test_load_communes_exits_non_zero_from_the_command_line(provinces, tmp_path, capsys):
    path = write_csv(tmp_path, "code,name\n1,x\n")
    with pytest.raises(SystemExit) as excinfo:
        execute_from_command_line(["manage.py", "load_communes", path])
    assert excinfo.value.code == 1
    assert "bad header" in capsys.readouterr().err


# --- communes: every bad input, nothing written --------------------------------------------------

BAD_FILES = {
    "empty file": ("", ["line 1: the file is empty"]),
    "missing column": (
        "code,name,valid_from\n00004,Ba Đình,2025-07-01\n",
        ["line 1: bad header (missing columns: province_code)"],
    ),
    "unknown column": (
        "code,name,province_code,valid_from,district\n00004,Ba Đình,01,2025-07-01,x\n",
        ["line 1: bad header (unknown columns: district)"],
    ),
    "unknown province": (
        HEADER + "00004,Ba Đình,01,2025-07-01,\n00005,Nowhere,99,2025-07-01,\n",
        ["line 3: unknown province code '99'"],
    ),
    "bad dates": (
        HEADER + "00004,Ba Đình,01,01/07/2025,\n00005,Ngọc Hà,01,2025-07-01,2025-02-30\n",
        [
            "line 2: valid_from '01/07/2025' is not a date (expected YYYY-MM-DD)",
            "line 3: valid_to '2025-02-30' is not a date",
        ],
    ),
    "valid_to not after valid_from": (
        HEADER + "00004,Ba Đình,01,2025-07-01,2025-07-01\n00005,Ngọc Hà,01,2025-07-01,2024-01-01\n",
        [
            "line 2: valid_to 2025-07-01 must be after valid_from 2025-07-01",
            "line 3: valid_to 2024-01-01 must be after valid_from 2025-07-01",
        ],
    ),
    "duplicate code": (
        HEADER + "00004,Ba Đình,01,2025-07-01,\n00008,Ngọc Hà,01,2025-07-01,\n00004,Ba Đình 2,01,2026-01-01,\n",
        ["line 4: duplicate code 00004 (already on line 2 for an overlapping period)"],
    ),
    "empty and overlong fields": (
        HEADER + ",Ba Đình,01,2025-07-01,\n00005,,01,,\n" + "12345678901,x,01,2025-07-01,\n",
        [
            "line 2: code is empty",
            "line 3: name is empty",
            "line 3: valid_from is empty",
            "line 4: code '12345678901' is longer than 10 characters",
        ],
    ),
    "wrong number of fields": (HEADER + "00004,Ba Đình,01\n", ["line 2: 3 fields, expected 5"]),
    # Python's csv module reads a NUL as any other character; PostgreSQL's text columns refuse it.
    "NUL in a name or a code": (
        HEADER + "00004,Ba\x00Dinh,01,2025-07-01,\n00\x0005,Ngọc Hà,01,2025-07-01,\n",
        ["line 2: name holds a NUL character (0x00); remove it", "line 3: code holds a NUL character"],
    ),
    "field beyond the csv limit": (
        HEADER + "00004,Ba Đình,01,2025-07-01,\n00005,\"" + "x" * 200_000 + "\",01,2025-07-01,\n",
        ["line 3: unreadable CSV (field larger than field limit"],
    ),
    "header only": (HEADER, ["the file has a header but no communes"]),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_load_communes_refuses_bad_files_and_writes_nothing(provinces, tmp_path, case):
    text, expected = BAD_FILES[case]
    # Good rows in a bad file must not be written either.
    message = load_fails(write_csv(tmp_path, text))
    assert message.startswith("No commune written")
    for fragment in expected:
        assert fragment in message
    assert Commune.objects.count() == 0


def test_load_communes_refuses_an_overlap_with_a_stored_period(provinces, tmp_path):
    load(write_csv(tmp_path, HEADER + "00004,Ba Đình,01,2025-07-01,\n"))
    message = load_fails(write_csv(tmp_path, HEADER + "00008,Ngọc Hà,01,2025-07-01,\n00004,Ba Đình,01,2026-01-01,\n",
                                   "v2.csv"))
    assert "line 3: code 00004 overlaps the stored commune valid from 2025-07-01" in message
    assert list(Commune.objects.values_list("code", flat=True)) == ["00004"]


def test_load_communes_reports_a_missing_or_non_utf8_file(provinces, tmp_path):
    assert "cannot be read" in load_fails(str(tmp_path / "missing.csv"))
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "00004,Phường Ba Đình,01,2025-07-01,\n").encode("utf-16"))
    assert "not UTF-8 text" in load_fails(str(path))


def test_load_communes_caps_the_list_of_problems(provinces, tmp_path):
    rows = "".join(f"{n:05d},X,99,2025-07-01,\n" for n in range(120))
    message = load_fails(write_csv(tmp_path, HEADER + rows))
    assert "line 51: unknown province code" in message
    assert "line 52: unknown province code" not in message
    assert "… and 70 more problems." in message
