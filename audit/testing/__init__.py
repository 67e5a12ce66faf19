"""Test-only app (config.settings.test): a `flush` that can empty the append-only audit table."""
