"""File downloads under their Chinese names.

Django's ``content_disposition_header`` gives a non-ASCII name only as ``filename*`` (no plain
``filename``), so a client that ignores RFC 5987 saves ``download``; ``attachment`` sends both, as
RFC 6266 §4.3 recommends: an ASCII fallback first, then the UTF-8 name. The charset is written
``utf-8`` as Django writes it (RFC 5987: case-insensitive).
"""

import re
import unicodedata
from urllib.parse import quote

from django.http import HttpResponseBase

# What may stand unquoted-safe inside the fallback's quotes: no quote, backslash, control or ``%``.
_NOT_FALLBACK = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_fallback(filename: str) -> str:
    """The ASCII characters of ``filename`` that carry meaning (codes, years), runs of anything else
    as one ``-``: ``清零清单_M3-1_431322_2025.xlsx`` → ``M3-1_431322_2025.xlsx``."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    text = _NOT_FALLBACK.sub("-", text).strip("-_.") or "download"
    extension = _NOT_FALLBACK.sub("", extension)
    return f"{text}.{extension}" if extension else text


def attachment(response: HttpResponseBase, filename: str, *, fallback: str | None = None) -> HttpResponseBase:
    """Mark ``response`` a download named ``filename``: ``attachment; filename="<fallback>";
    filename*=utf-8''<percent-encoded>`` (RFC 6266 / 5987). ``fallback`` defaults to the ASCII part
    of the name (``ascii_fallback``)."""
    plain = ascii_fallback(fallback if fallback is not None else filename)
    response["Content-Disposition"] = f"attachment; filename=\"{plain}\"; filename*=utf-8''{quote(filename, safe='')}"
    return response
