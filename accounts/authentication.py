"""API authentication by ``Authorization: Token <key>`` against ``accounts.ApiToken`` (hashed keys,
expiry, revocation), in place of DRF's ``TokenAuthentication`` and its plain, eternal keys."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts import tokens


class ApiTokenAuthentication(TokenAuthentication):
    """Same header and ``WWW-Authenticate: Token`` challenge as DRF's (the schema generator knows it
    as the token scheme); the key is looked up by its digest."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = tokens.token_for_key(key)
        if token is None:
            raise AuthenticationFailed(_("令牌无效、已过期或已被撤销，请重新获取令牌（POST /api/v1/auth/token/）。"))
        if not token.user.is_active:
            raise AuthenticationFailed(_("该账号已停用，令牌不能再使用。请联系管理员。"))
        return token.user, token
