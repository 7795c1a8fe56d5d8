"""Writes about users and personal-data access."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from households import personal_data

from .access import access_object
from .models import PersonalDataAccess, User

UNMASK_PERMISSION = "accounts.view_personal_data"


@transaction.atomic
def personal_data_unmask(*, actor: User, person: Any, ip_address: str | None) -> dict[str, str]:
    """Plain ID number (and the household phone) of ONE record, logged; 403 without the permission."""
    from households.models import Person

    if not actor.has_perm(UNMASK_PERMISSION):
        raise PermissionDenied("您没有查看完整个人信息的权限。")
    person = access_object(Person.objects.select_related("household"), actor, pk=person.pk)
    PersonalDataAccess.objects.create(
        user=actor, entity="person", object_id=person.pk, object_label=person.id_number_masked, ip_address=ip_address
    )
    return {
        "id_number": personal_data.decrypt(person.id_number_encrypted),
        "phone": personal_data.decrypt(person.household.phone_encrypted),
    }
