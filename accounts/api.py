"""The API's token endpoints (issue 17, finding 5): obtain a token (password, plus the TOTP code for
users who bound a device), list one's tokens, revoke one."""

from typing import Any

from django.contrib.auth import authenticate, user_login_failed
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import login_limit, tokens
from accounts.models import ApiToken, User
from accounts.types import api_actor

OTP_MISSING = _("该账号已绑定动态口令设备：请在 otp_token 中填写设备上显示的 6 位动态口令后再获取令牌。")
OTP_WRONG = _("动态口令不正确或已过期：请核对设备上当前显示的口令（每 30 秒更新）后重试。")
OTP_THROTTLED = _("动态口令错误次数过多，已暂停验证：请稍后再试。")


def _otp_error(user: User, code: str) -> Any:
    """None when ``code`` is a current TOTP code of one of the user's confirmed devices (each device
    throttles its own failures and refuses a code already used); the message to answer otherwise."""
    code = code.strip()
    if not code:
        return OTP_MISSING
    throttled = True
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            allowed, _details = device.verify_is_allowed()
            throttled = throttled and not allowed
            if device.verify_token(code):
                return None
    return OTP_THROTTLED if throttled else OTP_WRONG


class ObtainTokenSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("用户名"), write_only=True)
    password = serializers.CharField(
        label=_("密码"), style={"input_type": "password"}, trim_whitespace=False, write_only=True
    )
    otp_token = serializers.CharField(
        label=_("动态口令"),
        required=False,
        allow_blank=True,
        write_only=True,
        help_text=_("绑定了动态口令设备的账号必填：设备上当前显示的 6 位数字。"),
    )
    name = serializers.CharField(label=_("令牌名称"), required=False, allow_blank=True, max_length=100, write_only=True)
    token = serializers.CharField(read_only=True, help_text=_("令牌，只显示这一次"))
    expires = serializers.DateTimeField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context["request"]
        if login_limit.address_locked(request):
            raise Throttled(detail=login_limit.address_locked_message())
        user = authenticate(request=request, username=attrs["username"], password=attrs["password"])
        if user is None:
            if login_limit.address_locked(request):
                raise Throttled(detail=login_limit.address_locked_message())
            raise serializers.ValidationError(_("用户名或密码不正确，请核对后重试。"), code="authorization")
        if any(devices_for_user(user, confirmed=True)):
            error = _otp_error(user, attrs.get("otp_token", ""))
            if error is not None:
                if error != OTP_MISSING:  # a wrong code counts like a wrong password (axes, address limit)
                    user_login_failed.send(
                        sender=__name__, credentials={"username": attrs["username"]}, request=request
                    )
                raise serializers.ValidationError({"otp_token": [error]}, code="authorization")
        attrs["user"] = user
        return attrs


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "user", "created", "expires", "last_used", "revoked", "status"]
        read_only_fields = fields


def obtain_token(request: Request) -> Response:
    """The body of ``POST auth/token/``: a new token each time (only its digest is stored, so an
    existing key cannot be handed out again)."""
    serializer = ObtainTokenSerializer(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    token, key = tokens.token_create(
        user=serializer.validated_data["user"], name=serializer.validated_data.get("name", "")
    )
    response = Response({"token": key, "expires": serializers.DateTimeField().to_representation(token.expires)})
    response["Cache-Control"] = "no-store"  # the key is shown this once
    return response


@extend_schema(tags=["auth"])
class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """``auth/tokens/``: the caller's own tokens (user administrators: also those of the users in
    their area), newest first; ``DELETE auth/tokens/{id}/`` revokes one (it stays listed as revoked)."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return ApiToken.objects.none()
        return tokens.tokens_manageable(api_actor(self.request)).order_by("-created", "-id")

    def perform_destroy(self, instance: ApiToken) -> None:
        tokens.token_revoke(actor=api_actor(self.request), pk=instance.pk)
