from django.apps import AppConfig


class TestingConfig(AppConfig):
    """Test-only tools. Listed in INSTALLED_APPS by config.settings.test alone, so
    that its `flush`, which lifts the append-only triggers, does not exist in any other installation."""

    name = "config.testing"
    label = "config_testing"
