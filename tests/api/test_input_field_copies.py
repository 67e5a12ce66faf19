"""config.api.StrictInputSerializer copies its flat declared fields attribute by attribute instead of DRF's
deep copy: each input serializer then has the same fields, checks input the same way, and no serializer
shares anything it could change with another."""

import copy

import pytest
from django.db.models import QuerySet
from rest_framework import serializers

from config.api import StrictInputSerializer, _flat_field


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _input_serializers():
    # Every app's API and serializers are imported by the URLconf.
    import config.urls  # noqa: F401

    return sorted(set(_all_subclasses(StrictInputSerializer)), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _described(field) -> dict:
    """What a field checks with: its attributes, validators by type and limits, nested fields described too."""
    described = {}
    for name, value in vars(field).items():
        if name in ("parent", "_args", "_kwargs", "_creation_counter", "_fields", "binding"):
            continue
        if name in ("_validators", "validators"):
            value = [(type(v).__name__, getattr(v, "limit_value", None), str(getattr(v, "message", ""))) for v in value]
        elif isinstance(value, serializers.Field):
            value = _described(value)
        elif isinstance(value, QuerySet):
            value = value.model
        described[name] = value
    return described


@pytest.mark.parametrize("serializer_class", _input_serializers(), ids=lambda cls: cls.__qualname__)
def test_fields_are_those_of_drfs_deep_copy(serializer_class):
    if serializer_class.get_fields is not StrictInputSerializer.get_fields:
        pytest.skip("makes its own fields")
    ours = serializer_class().fields
    drfs = serializers.Serializer.get_fields(serializer_class())
    assert list(ours) == list(drfs)
    for name, field in ours.items():
        assert type(field) is type(drfs[name])
        drf_field = drfs[name]
        drf_field.bind(name, ours[name].parent)
        assert _described(field) == _described(drf_field), name
        # Nothing of the declared field is bound to this serializer, nor anything changeable shared.
        declared = serializer_class._declared_fields.get(name)
        if declared is not None:
            assert field is not declared and getattr(declared, "parent", None) is None


def test_a_field_with_a_changeable_default_or_fields_inside_is_deep_copied():
    assert not _flat_field(serializers.ListField(child=serializers.CharField()))
    assert not _flat_field(serializers.JSONField(default=dict()))
    assert not _flat_field(serializers.CharField(default=[]))
    assert _flat_field(serializers.CharField(default=""))
    assert _flat_field(serializers.DateTimeField(default=None))
    assert _flat_field(serializers.ChoiceField(choices=[("a", "A")]))


def test_two_serializers_share_no_field():
    from cases.serializers import ActionLogInputSerializer

    first, second = ActionLogInputSerializer().fields, ActionLogInputSerializer().fields
    for name in first:
        assert first[name] is not second[name]
        assert first[name].parent is not second[name].parent


def test_a_copy_is_not_the_declared_field():
    from cases.serializers import ActionLogInputSerializer

    declared = ActionLogInputSerializer._declared_fields["type"]
    made = ActionLogInputSerializer().fields["type"]
    assert made is not declared and made.parent is not None and declared.parent is None
    assert copy.copy(declared).choices == made.choices
