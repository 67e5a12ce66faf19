"""`make run`: every process honcho starts (web, worker, beat) links emails to the web server.

honcho hands each process its own PORT (web PORT, worker PORT+100, beat PORT+200); the settings used
to build SITE_URL from it, so links in notification emails pointed at the worker's port. The
Makefile's `processes` target (what `make run` ends with) is run here for real, with a Procfile of
three processes that print the link an email would carry.
"""

import re
import shutil
import subprocess
import sys

import pytest

from .conftest import BASE_DIR, process_env

# The test run's own environment, which has honcho (a runtime dependency).
BIN = sys.executable.rsplit("/", 1)[0]
PRINT_LINK = (
    f"{sys.executable} -c \"import django; django.setup(); "
    "from notifications.texts import notification_url; import os; "
    "print('LINK', os.environ['PORT'], notification_url(link='/handoffs/1/'), flush=True); "
    "import time; time.sleep(4)\""
)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_every_process_of_make_run_links_to_the_web_server(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("".join(f"{name}: {PRINT_LINK}\n" for name in ("web", "worker", "beat")))
    env = process_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev", SITE_URL=None, PORT=None,
                      DATABASE_URL=None, REDIS_URL=None)
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "processes", f"PROCFILE={procfile}", "PORT=8765", "HOST=127.0.0.1",
         f"BIN={BIN}"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=90,
    )
    output = result.stdout + result.stderr
    links = dict(re.findall(r"LINK (\d+) (\S+)", output))
    # Each process really had its own port, and every one of them links to the web server's.
    assert set(links) == {"8765", "8865", "8965"}, output
    assert set(links.values()) == {"http://127.0.0.1:8765/handoffs/1/"}, output


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_site_url_given_to_make_run_is_kept(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"worker: {PRINT_LINK}\n")
    env = process_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev", SITE_URL="https://hopluc.test",
                      PORT=None, DATABASE_URL=None, REDIS_URL=None)
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "processes", f"PROCFILE={procfile}", "PORT=8765",
         f"BIN={BIN}"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=90,
    )
    assert "LINK 8765 https://hopluc.test/handoffs/1/" in result.stdout + result.stderr, result.stdout + result.stderr
