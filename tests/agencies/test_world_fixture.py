"""The `world` fixture writes its rows in bulk (tests/conftest.py, world_in_bulk): the same rows, in the
same order, with the same side effects, as building it through the services."""

import re

from django.apps import apps
from django.contrib.auth.hashers import check_password
from django.db import connection, models, transaction

from tests.conftest import PASSWORD, world_in_bulk, world_through_services

TIMESTAMPS = {"date_joined", "created_at", "last_login"}


def _every_table_count() -> dict[str, int]:
    tables = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(tables):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _rows() -> dict[str, list[dict]]:
    """Every row of every table the world writes, ids and foreign keys replaced by the row's place
    in its table (ids differ between two builds where sequences are not rolled back)."""
    User, Group, Agency = (apps.get_model(label) for label in ["auth.User", "auth.Group", "agencies.Agency"])
    labels = ["agencies.Province", "agencies.Agency", "auth.Group", "agencies.AgencyGroup", "auth.User",
              "agencies.Membership", "agencies.AnalystScope"]
    tables = [apps.get_model(label) for label in labels] + [User.groups.through]
    place = {model: {pk: i for i, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True))}
             for model in tables}
    rows = {}
    for model in tables:
        table_rows = []
        for obj in model.objects.order_by("pk"):
            row = {}
            for field in model._meta.concrete_fields:
                value = getattr(obj, field.attname)
                if field.primary_key:
                    value = place[model][value]
                elif isinstance(field, models.ForeignKey) and value is not None:
                    value = place[field.related_model][value]
                elif field.name in TIMESTAMPS:
                    value = value is not None
                elif field.name == "password":
                    value = check_password(PASSWORD, value)
                elif model is Group and field.name == "name":  # agency:<agency id>:<role>
                    value = re.sub(r"^agency:(\d+):", lambda m: f"agency:#{place[Agency][int(m[1])]}:", value)
                row[field.name] = value
            table_rows.append(row)
        rows[model._meta.label] = table_rows
    return rows


def _build(builder, monkeypatch):
    """Build the world in a savepoint that is then rolled back: its rows, the count of every table, the
    people whose navigation roles were marked as changed, and the World's fields."""
    from accounts import navigation

    bumped = []
    original = navigation.nav_roles_changed_many
    monkeypatch.setattr(navigation, "nav_roles_changed_many", lambda *, user_ids: (bumped.extend(set(user_ids)),
                                                                                 original(user_ids=user_ids)))
    with transaction.atomic():
        world = builder()
        usernames = dict(apps.get_model("auth", "User").objects.values_list("pk", "username"))
        built = {
            "rows": _rows(),
            "counts": _every_table_count(),
            "bumped": sorted(usernames[pk] for pk in bumped),
            "fields": {name: (type(value).__name__, str(value), value._state.adding, value._state.db)
                       for name, value in vars(world).items()},
            "ids_match_rows": all(type(value).objects.filter(pk=value.pk).exists() for value in vars(world).values()),
        }
        transaction.set_rollback(True)
    return built


def test_world_in_bulk_writes_what_the_services_write(db, monkeypatch):
    by_services = _build(world_through_services, monkeypatch)
    in_bulk = _build(world_in_bulk, monkeypatch)
    assert by_services["rows"]["auth.User"], "the services wrote no one"
    for table, rows in by_services["rows"].items():
        assert in_bulk["rows"][table] == rows, table
    assert in_bulk["counts"] == by_services["counts"]
    assert in_bulk["bumped"] == by_services["bumped"]
    assert in_bulk["fields"] == by_services["fields"]
    assert in_bulk["ids_match_rows"] and by_services["ids_match_rows"]


def test_world_in_bulk_is_a_few_statements(db, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        world_in_bulk()
