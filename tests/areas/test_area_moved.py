"""Area moved from households to areas with its table (issue 18): the data, the permissions and the
admin log stay where they were."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from areas.models import Area

pytestmark = pytest.mark.django_db

migration = importlib.import_module("areas.migrations.0001_initial")


def test_the_area_table_is_the_one_households_created() -> None:
    assert Area._meta.db_table == "households_area"
    with connection.cursor() as cursor:
        assert "households_area" in connection.introspection.table_names(cursor)


def test_an_existing_databases_content_type_and_permissions_follow_the_model() -> None:
    # A database migrated before the move has households.area, with its permissions attached.
    ContentType.objects.filter(app_label="areas", model="area").delete()
    old = ContentType.objects.create(app_label="households", model="area")
    permission = Permission.objects.create(content_type=old, codename="change_area_x", name="x")

    migration.content_type_moved(django_apps, None)

    moved = ContentType.objects.get(pk=old.pk)
    assert (moved.app_label, moved.model) == ("areas", "area")
    assert Permission.objects.get(pk=permission.pk).content_type_id == old.pk
    assert not ContentType.objects.filter(app_label="households", model="area").exists()


def test_a_fresh_database_keeps_its_areas_content_type() -> None:
    ContentType.objects.clear_cache()
    existing = ContentType.objects.get_for_model(Area)
    migration.content_type_moved(django_apps, None)
    assert ContentType.objects.filter(app_label="areas", model="area").get().pk == existing.pk
