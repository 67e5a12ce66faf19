"""Test-only app (config.settings.test): a `flush` that can empty the append-only audit table, the
published monthly reports and signed case-meeting minutes. At the top layer: it names those apps' triggers."""
