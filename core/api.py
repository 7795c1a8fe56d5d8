"""The API's shared plumbing, independent of any model: errors as the portal answers them, the
schema's documented error responses, and the filter base."""

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the ``ValidationError`` of the services as a 400 with per-field messages
    (``__all__`` becomes ``non_field_errors``), and one Chinese 404 for every missing record."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail: Any = {
                (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        # ``get_object_or_404`` says "No CountyFinance matches the given query." in English and names
        # the model: every 404 of the API is the same Chinese answer (issue 17 finding 20).
        exc = NotFound()
    return drf_exception_handler(exc, context)


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "每个字段的错误信息（non_field_errors 为整体错误）",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
ERROR_DESCRIPTIONS = {
    "400": "请求有误：逐字段的错误信息；引用了不存在或不在本辖区的编码",
    "401": "未登录或令牌无效",
    "403": "无权进行此操作（角色不允许，或缺少 CSRF 令牌）",
    "404": "不存在，或不在本辖区",
    "429": "请求过于频繁",
}


class APIAutoSchema(AutoSchema):
    """Every operation documents the error answers of access.md: 400, 401, 403, 404 (and 429)."""

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, description in ERROR_DESCRIPTIONS.items():
            if code in responses:
                continue
            schema = FIELD_ERRORS_SCHEMA if code == "400" else ERROR_SCHEMA
            response = self._get_response_for_code(schema, code, direction=direction)
            response["description"] = description
            responses[code] = response
        return responses


class CodeFilterSet(django_filters.FilterSet):
    """Filters by codes and Chinese choice values; an invalid choice answers 400."""


def unknown_code(field: str, label: str, code: str) -> DjangoValidationError:
    """The one message for a code that does not exist and a code outside the area (access.md)."""
    return DjangoValidationError({field: _("%(label)s“%(code)s”不存在，请核对。") % {"label": label, "code": code}})


def neutral_duplicate(field: str, label: str) -> DjangoValidationError:
    """A new code already taken anywhere: refused without saying where (access.md)."""
    return DjangoValidationError({field: _("该%(label)s已在系统中登记，请联系县级管理员") % {"label": label}})
