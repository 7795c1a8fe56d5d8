"""The login backend: Django's, with the user's area loaded in the same query.

Every page scopes by ``request.user.area`` (``accounts.access.scope``), so loading it with the user
saves one query on every request.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class AreaModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user_model = self._get_user_model()
        try:
            user = user_model._default_manager.select_related("area").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def _get_user_model(self) -> Any:
        return get_user_model()
