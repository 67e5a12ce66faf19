#!/usr/bin/env python3
"""Per-file coverage floors for the modules that keep people's data apart: permissions, consent and
sharing, audit, and the reports' disclosure control.

    python .ci/coverage_floor.py coverage.json           check (make test COVERAGE=1, CI's PostgreSQL run)
    python .ci/coverage_floor.py coverage.json --raise   rewrite the floors file with the raised floors

coverage.json is pytest-cov's JSON report of the WHOLE suite. Fails when a listed file is below its
floor, when a listed file is missing from the report, when a file that must have a floor has none,
or when a floor is lower than it ever was in the floors file's git history (floors only rise). Says
which floors to raise when a file is more than RAISE_MARGIN points above its floor.
"""

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / ".ci" / "coverage_floors.json"
RAISE_MARGIN = 2.0
# A new floor is set this far below the measured coverage, so that a test that stops running a line
# by chance (a branch taken by timing) does not fail CI.
SLACK = 2.0


def must_have_floor(path: str) -> bool:
    """Files that need a floor: every module of permissions and audit (migrations and the test-only
    flush command aside) and the listed consent, sharing and disclosure modules."""
    patterns = json.loads(FLOORS.read_text())["files_that_need_a_floor"]
    if "/migrations/" in path or path.startswith("config/testing/"):
        return False
    return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def history_max() -> dict[str, float]:
    """The highest floor each file ever had in the committed floors file (empty outside git)."""
    rel = FLOORS.relative_to(ROOT).as_posix()
    try:
        commits = subprocess.run(  # noqa: S603
            ["git", "log", "--format=%H", "--", rel],  # noqa: S607
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=30,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return {}
    best: dict[str, float] = {}
    for commit in commits:
        shown = subprocess.run(  # noqa: S603
            ["git", "show", f"{commit}:{rel}"], cwd=ROOT, capture_output=True, text=True, timeout=30,  # noqa: S607
        )
        if shown.returncode != 0:
            continue
        try:
            floors = json.loads(shown.stdout).get("floors", {})
        except ValueError:
            continue
        for path, floor in floors.items():
            best[path] = max(best.get(path, 0.0), float(floor))
    return best


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    report = json.loads(Path(argv[0]).read_text())
    measured = {
        Path(name).as_posix(): data["summary"]["percent_covered"]
        for name, data in report["files"].items()
        if data["summary"]["num_statements"]  # an empty __init__.py has nothing to cover
    }
    print(f"Coverage of the project: {report['totals']['percent_covered']:.1f}% of statements.")
    config = json.loads(FLOORS.read_text())
    floors: dict[str, float] = config["floors"]
    problems, raises = [], {}

    for path in sorted(floors):
        floor = float(floors[path])
        if not (ROOT / path).exists():
            problems.append(f"{path}: listed with a floor but the file is gone; move its floor to where its code went")
            continue
        if path not in measured:
            problems.append(f"{path}: not in the coverage report (was the whole suite run with --cov?)")
            continue
        percent = measured[path]
        if percent + 1e-9 < floor:
            problems.append(f"{path}: {percent:.1f}% covered, below its floor of {floor:.1f}%")
        elif round(percent - floor, 1) > RAISE_MARGIN:  # rounded: 95.1 - 93.1 is not quite 2.0 in floats
            raises[path] = round(percent - SLACK, 1)

    for path in sorted(measured):
        if must_have_floor(path) and path not in floors:
            problems.append(f"{path}: needs a floor in {FLOORS.relative_to(ROOT)} (measured {measured[path]:.1f}%)")

    for path, best in sorted(history_max().items()):
        if path in floors and float(floors[path]) + 1e-9 < best:
            problems.append(f"{path}: floor {floors[path]} is below the {best} it once had; floors only rise")

    if raises:
        print(f"Coverage is more than {RAISE_MARGIN} points above these floors; raise them "
              f"(python .ci/coverage_floor.py {argv[0]} --raise):")
        for path, new in raises.items():
            print(f"  {path}: {floors[path]} -> {new}  (measured {measured[path]:.1f}%)")
        if "--raise" in argv[1:]:
            config["floors"] = {**floors, **raises}
            FLOORS.write_text(json.dumps(config, indent=2, sort_keys=False) + "\n")
            print(f"Raised in {FLOORS.relative_to(ROOT)}; commit it.")

    if problems:
        print("Coverage floors: FAILED", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"Coverage floors: {len(floors)} files at or above their floors.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
