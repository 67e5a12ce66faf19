"""OpenAPI enum names: one per vocabulary, whatever the fields using it are called.

drf-spectacular names an enum after the field it sits on, so `Deadline.kind` and `Notification.kind`
collide and a `channel` and a `locked` list of the same channels get two names; each case is a
`check --deploy` warning. Every Django `Choices` class of our apps is a vocabulary: this names its
enum after the class (`Sector` → `SectorEnum`, `Deadline.Kind` → `DeadlineKindEnum`).

Importable from settings: nothing from Django is touched before the schema is generated.
"""

from collections.abc import Iterator, Mapping
from pathlib import Path


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


class VocabularyEnumNames(Mapping):
    """A lazy ENUM_NAME_OVERRIDES: `explicit` entries first, then one entry per project Choices class.

    Computed at the first schema generation, once every models module has been imported.
    """

    def __init__(self, explicit: Mapping[str, object] | None = None):
        self._explicit = dict(explicit or {})
        self._names: dict[str, object] | None = None

    def _resolved(self) -> dict[str, object]:
        if self._names is None:
            self._names = self._compute()
        return self._names

    def _compute(self) -> dict[str, object]:
        from django.apps import apps
        from django.conf import settings
        from django.db.models import Choices
        from drf_spectacular.plumbing import deep_import_string

        # Our apps sit at the top of the repository; Django's and libraries' vocabularies are left alone.
        ours = {config.name for config in apps.get_app_configs() if Path(config.path).parent == settings.BASE_DIR}

        def vocabulary(choices) -> tuple:
            if isinstance(choices, str):
                choices = deep_import_string(choices)
            if isinstance(choices, type) and issubclass(choices, Choices):
                choices = choices.choices
            return tuple((value, str(label)) for value, label in choices)

        names = dict(self._explicit)
        taken = {vocabulary(choices) for choices in names.values()}
        classes = [cls for cls in _subclasses(Choices) if cls.__module__.partition(".")[0] in ours]
        for cls in sorted(classes, key=lambda c: (c.__module__, c.__qualname__)):
            name = cls.__qualname__.replace(".", "") + "Enum"
            key = vocabulary(cls)
            # The same values and labels under two classes may have one name only.
            if not key or name in names or key in taken:
                continue
            names[name] = cls
            taken.add(key)
        return names

    def __getitem__(self, name: str) -> object:
        return self._resolved()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())
