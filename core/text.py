"""One spelling per typed value, shared by every app that reads codes, IDs and numbers."""

import unicodedata
from typing import Any


def normalise_text(value: Any) -> str:
    """One spelling per value for IDs, codes and numbers: NFKC (full-width → ASCII), invisible
    characters (Unicode Cf: zero-width space/joiners, BOM, bidi marks) removed, every decimal digit
    (Arabic-Indic, Devanagari …) turned into its ASCII digit, surrounding spaces (NBSP and the
    ideographic space included, which NFKC makes plain spaces) trimmed. Otherwise look-alikes such as
    ``４３１３２２…`` pass as different values and bypass uniqueness."""
    text = str(value)
    if text.isascii():
        return text.strip()
    text = unicodedata.normalize("NFKC", text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        kept.append(str(unicodedata.digit(char)) if category == "Nd" else char)
    return "".join(kept).strip()
