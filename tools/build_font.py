"""Build static/fonts/PortalSans-*.ttf and PortalSerif-*.ttf from Debian's Noto Sans / Serif CJK SC
(docs/fonts.md). Dev tool only: ``python tools/build_font.py [Sans|Serif] [Regular Bold]``."""

import contextlib
import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

SOURCE = Path("/usr/share/fonts/opentype/noto")
OUT = Path(__file__).resolve().parent.parent / "static" / "fonts"


def gb2312_text() -> str:
    chars = []
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):  # unassigned code points
                chars.append(bytes([high, low]).decode("gb2312"))
    return "".join(chars) + "".join(chr(c) for c in range(0x20, 0x7F)) + "·—…“”‘’、。，：；！？（）《》【】％－"


def to_truetype(font: TTFont) -> None:
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"].tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(font["maxp"], attr, 0)
    font["maxp"].maxZones = 1
    font["maxp"].maxComponentDepth = 0
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


# The OFL's Reserved Font Name "Noto" may not stay on a modified font: each family gets a portal name.
FAMILIES = {"Sans": "PortalSans", "Serif": "PortalSerif"}


def build(weight: str, style: str = "Sans") -> None:
    family = FAMILIES[style]
    collection = TTCollection(str(SOURCE / f"Noto{style}CJK-{weight}.ttc"))
    font = next(f for f in collection.fonts if "SC" in f["name"].getDebugName(1))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=gb2312_text())
    subsetter.subset(font)
    to_truetype(font)
    for record in font["name"].names:
        text = record.toUnicode()
        if f"Noto {style} CJK SC" in text or f"Noto{style}CJKsc" in text:
            record.string = text.replace(f"Noto {style} CJK SC", family).replace(f"Noto{style}CJKsc", family)
    OUT.mkdir(parents=True, exist_ok=True)
    font.save(str(OUT / f"{family}-{weight}.ttf"))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    styles = [arguments.pop(0)] if arguments and arguments[0] in FAMILIES else ["Sans"]
    for style in styles:
        for weight in arguments or ["Regular", "Bold"]:
            build(weight, style)
