"""The API's JSON parser: a body the portal cannot use answers 400 with a Chinese message, never 500.

DRF's parser lets Python's ``RecursionError`` escape on a body nested thousands of levels deep (a
500, and an HTML page under production settings). No API body of the portal nests deeper than a few
levels, so anything beyond ``MAX_DEPTH`` is refused before a view sees it.
"""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def json_depth_exceeds(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``data`` nests deeper than ``limit`` (iterative: no recursion of its own)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class SafeJSONParser(JSONParser):
    """``JSONParser`` with a depth limit and Chinese messages."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(self.too_deep()) from exc
        except ParseError as exc:
            raise ParseError(_("请求体不是有效的 JSON，请检查格式（UTF-8 编码的 JSON 对象）。")) from exc
        if json_depth_exceeds(data):
            raise ParseError(self.too_deep())
        return data

    @staticmethod
    def too_deep() -> str:
        return _("请求体的 JSON 嵌套层数超过 %(limit)s 层，请按接口文档提交扁平的 JSON 对象。") % {"limit": MAX_DEPTH}


__all__ = ["MAX_DEPTH", "SafeJSONParser", "json_depth_exceeds"]
