"""The checks that keep the layout (issue 14, part 7) are configured and the import contracts hold.

`make lint` (run by .ci/run before the suites) runs ruff, makemigrations --check, lint-imports and
mypy; this test runs lint-imports itself (about a second) and checks that mypy's and the coverage
floors' configuration name files that exist. mypy itself runs only in `make lint` (tens of seconds).
"""

import ast
import fnmatch
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = {
    "accounts", "agencies", "permissions", "cases", "handoffs", "takedowns", "deadlines", "notifications",
    "reports", "audit", "supervision", "privacy", "risk", "conferences", "scale",
}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(  # noqa: S603
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_import_contracts_cover_every_app_and_forbid_cycles():
    config = _pyproject()["tool"]["importlinter"]
    assert APPS | {"config"} <= set(config["root_packages"])
    contracts = {c["id"]: c for c in config["contracts"]}
    layered = " ".join(contracts["apps-layers"]["layers"]).replace("|", " ").replace(":", " ").split()
    assert set(layered) >= APPS
    # No app imports another in a cycle: the layers hold with no import let through.
    assert not contracts["apps-layers"].get("ignore_imports"), contracts["apps-layers"]["ignore_imports"]
    assert set(contracts["modules-acyclic"]["ancestors"]) == APPS
    assert contracts["reports-read-only"]["source_modules"] == ["reports"]


def test_mypy_checks_every_service_and_selector_module():
    config = _pyproject()["tool"]["mypy"]
    files = set(config["files"])
    assert all((ROOT / f).is_file() for f in files), sorted(f for f in files if not (ROOT / f).is_file())
    expected = {
        p.relative_to(ROOT).as_posix()
        for app in APPS for name in ("services.py", "selectors.py") if (p := ROOT / app / name).is_file()
    }
    assert expected <= files, sorted(expected - files)
    assert "mypy_django_plugin.main" in config["plugins"]


def test_coverage_floors_name_existing_files_that_need_them():
    floors = json.loads((ROOT / ".ci" / "coverage_floors.json").read_text())
    assert floors["floors"], "no floors"
    for path, floor in floors["floors"].items():
        assert (ROOT / path).is_file(), path
        assert 0 <= floor <= 100, path
    needed = [
        p.relative_to(ROOT).as_posix() for app in APPS for p in (ROOT / app).glob("**/*.py")
        if any(fnmatch.fnmatch(p.relative_to(ROOT).as_posix(), pattern)
               for pattern in floors["files_that_need_a_floor"])
        and "/migrations/" not in p.as_posix() and "/testing/" not in p.as_posix()
        and p.read_text().strip()
    ]
    missing = sorted(set(needed) - set(floors["floors"]))
    assert not missing, f"files without a coverage floor: {missing}"


def test_every_test_package_is_an_app_or_a_cross_cutting_suite():
    """Tests follow the code (tests/README.md): one package per app, and only these span every app."""
    cross_cutting = {"browser", "api", "ops", "support"}
    packages = {p.parent.name for p in (ROOT / "tests").glob("*/__init__.py")}
    strays = packages - APPS - cross_cutting
    assert not strays, f"test packages that are no app's: {sorted(strays)}"


def test_delivery_sends_the_task_by_its_registered_name():
    # notifications.delivery names the task instead of importing notifications.tasks (no cycle).
    from notifications.delivery import DELIVER_TASK
    from notifications.tasks import deliver_outbox_message

    assert deliver_outbox_message.name == DELIVER_TASK


def test_each_template_is_written_in_one_template_language():
    """The pages are Jinja2 (jinja2_templates/, the first engine); templates/ keeps only what must stay in
    Django's language (pages that extend a library's template). One name in both would be two copies of a
    page, the second never rendered."""
    jinja2_names = {str(path.relative_to(ROOT / "jinja2_templates")) for path in (ROOT / "jinja2_templates").rglob("*")
                    if path.is_file()}
    django_names = {str(path.relative_to(ROOT / "templates")) for path in (ROOT / "templates").rglob("*")
                    if path.is_file()}
    assert len(jinja2_names) > 100
    assert not jinja2_names & django_names


def _class_factories(tree: ast.AST) -> list[str]:
    """Classes made by a function (a class statement inside a def, or type() with three arguments)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += [f"line {inner.lineno}: {node.name}() defines class {inner.name}"
                      for inner in ast.walk(node) if isinstance(inner, ast.ClassDef)]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type" and len(
                node.args) == 3:
            found.append(f"line {node.lineno}: type() makes a class")
    return found


def _project_code_found(check) -> dict[str, list[str]]:
    """{file: what `check` finds in its syntax tree} for the project's own modules, migrations aside."""
    return {
        path.relative_to(ROOT).as_posix(): problems
        for app in sorted(APPS | {"config", "encryption"}) for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and (problems := check(ast.parse(path.read_text(encoding="utf-8"))))
    }

def test_no_class_factories():
    """Views, serializers and forms are declared as classes one can read (issue 14, part 6), not made by a
    function; migrations aside."""
    assert _project_code_found(_class_factories) == {}


def test_the_class_factory_check_finds_one():
    made = ast.parse("def make(base):\n    class Made(base):\n        pass\n    return Made\n"
                     "Other = type('Other', (object,), {})\n")
    assert _class_factories(made) == ["line 2: make() defines class Made", "line 5: type() makes a class"]


def _text_boxes_counting_twice(tree: ast.AST) -> list[str]:
    """Django CharFields drawn as a text box (a Textarea widget): their max_length would count each line break
    twice, as the browser sends it (CR LF), where the box's maxlength counted it once."""
    return [f"line {node.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "CharField"
            and any(keyword.arg == "widget" and "Textarea" in ast.unparse(keyword.value) for keyword in node.keywords)]


def test_every_text_box_counts_a_line_break_once():
    """A form's text box is a config.forms.TypedTextField, which counts a line break once, as the browser's
    maxlength does (tests/cases/test_line_breaks.py)."""
    assert _project_code_found(_text_boxes_counting_twice) == {}


def test_the_text_box_check_finds_one():
    made = ast.parse("note = forms.CharField(max_length=10, widget=forms.Textarea(attrs={'rows': 2}))\n"
                     "name = forms.CharField(max_length=10)\n")
    assert _text_boxes_counting_twice(made) == ["line 1"]
