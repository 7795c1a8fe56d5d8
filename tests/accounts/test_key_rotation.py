"""Key rotation (docs/key-rotation.md): old ciphertexts keep decrypting, the command re-encrypts."""

import io

import pytest
from django.core.management import call_command

from accounts import personal_data
from households.models import Person
from tests.households.test_services import HEAD_ID, areas, household, person_data, staff  # noqa: F401

pytestmark = pytest.mark.django_db
NEW_KEY = personal_data.generate_key()


def test_rotation_re_encrypts_under_the_new_key(settings, household, staff):  # noqa: F811
    from households import services

    person = services.person_create(actor=staff, household=household, id_number=HEAD_ID, data=person_data())
    old_key = settings.FIELD_ENCRYPTION_KEY
    old_token = Person.objects.get(pk=person.pk).id_number_encrypted
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    settings.FIELD_ENCRYPTION_OLD_KEYS = [old_key]
    assert personal_data.decrypt(old_token) == HEAD_ID
    call_command("rotate_personal_data_keys", stdout=io.StringIO())
    new_token = Person.objects.get(pk=person.pk).id_number_encrypted
    assert new_token.startswith(personal_data.key_id(NEW_KEY) + ":")
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    assert personal_data.decrypt(new_token) == HEAD_ID
    assert Person.objects.filter(id_number_hash=personal_data.blind_index(HEAD_ID)).exists()
