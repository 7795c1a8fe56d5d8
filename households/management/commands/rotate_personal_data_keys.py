"""Re-encrypt ID and phone numbers under the current FIELD_ENCRYPTION_KEY (docs/key-rotation.md)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import personal_data
from households.models import Household, Person


class Command(BaseCommand):
    help = "Re-encrypt personal data written under an old key; with --reindex, rebuild blind indexes."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reindex", action="store_true", help="recompute blind indexes with BLIND_INDEX_KEY")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        current = personal_data.current_key_id() + ":"
        reindex = options["reindex"]
        size = options["batch_size"]
        persons = households = 0
        queryset = Person.objects.all() if reindex else Person.objects.exclude(id_number_encrypted__startswith=current)
        batch: list[Person] = []
        for person in queryset.only("id", "id_number_encrypted").iterator(chunk_size=size):
            plain = personal_data.decrypt(person.id_number_encrypted)
            person.id_number_encrypted = personal_data.encrypt(plain)
            person.id_number_hash = personal_data.blind_index(plain)
            batch.append(person)
            if len(batch) >= size:
                persons += self._flush(Person, batch, ["id_number_encrypted", "id_number_hash"])
        persons += self._flush(Person, batch, ["id_number_encrypted", "id_number_hash"])
        hh_batch: list[Household] = []
        for household in Household.objects.only("id", "phone_encrypted", "head_id_encrypted").iterator(chunk_size=size):
            changed = False
            for field in ("phone_encrypted", "head_id_encrypted"):
                token = getattr(household, field)
                if token and (reindex or not token.startswith(current)):
                    setattr(household, field, personal_data.encrypt(personal_data.decrypt(token)))
                    changed = True
            if reindex and household.head_id_encrypted:
                household.head_id_hash = personal_data.blind_index(personal_data.decrypt(household.head_id_encrypted))
                changed = True
            if changed:
                hh_batch.append(household)
            if len(hh_batch) >= size:
                households += self._flush(Household, hh_batch, ["phone_encrypted", "head_id_encrypted", "head_id_hash"])
        households += self._flush(Household, hh_batch, ["phone_encrypted", "head_id_encrypted", "head_id_hash"])
        self.stdout.write(f"re-encrypted {persons} persons and {households} households")

    @staticmethod
    def _flush(model: Any, batch: list[Any], fields: list[str]) -> int:
        count = len(batch)
        if count:
            with transaction.atomic():
                model.objects.bulk_update(batch, fields)
        batch.clear()
        return count
