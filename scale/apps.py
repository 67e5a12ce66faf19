from django.apps import AppConfig


class ScaleConfig(AppConfig):
    """National-scale worlds written in bulk (`manage.py seed_scale`), for benchmarks and for sizing
    hardware. It writes the rows the services of cases, handoffs and deadlines would, so it sits above them."""

    name = "scale"
