from django.apps import AppConfig


class AuditTestingConfig(AppConfig):
    """Test-only tools for the audit trail. Listed in INSTALLED_APPS by config.settings.test alone, so
    that its `flush`, which lifts the append-only triggers, does not exist in any other installation."""

    name = "audit.testing"
    label = "audit_testing"
