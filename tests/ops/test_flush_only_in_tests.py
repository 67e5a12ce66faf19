"""Part 7 of issue 11: the `flush` that lifts the audit trail's append-only triggers exists under
the test settings only; production's `flush` is Django's own, which the triggers refuse."""

import subprocess
import sys

from django.core.management import get_commands

from .conftest import BASE_DIR
from .test_settings import production_env

COMMAND_APP = """
import django
django.setup()
from django.core.management import get_commands
from django.conf import settings
print(get_commands()["flush"], "config.testing" in settings.INSTALLED_APPS)
"""


def test_the_test_settings_have_the_trigger_lifting_flush():
    assert get_commands()["flush"] == "config.testing"


def test_production_and_development_settings_do_not(tmp_path):
    for env in (production_env(tmp_path), production_env(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.dev")):
        result = subprocess.run([sys.executable, "-c", COMMAND_APP], cwd=BASE_DIR, env=env, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["django.core", "False"]
