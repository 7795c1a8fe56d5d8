"""The project's own documentation stays true to the code, and nothing points outside the repository.

docs/indicators.md and the column tables of docs/templates.md are written by tools/gen_docs.py from
the catalogue, the engine's rules and the import kinds: these tests fail when a change to any of
them was not followed by ``python tools/gen_docs.py``.
"""

import importlib.util
from pathlib import Path

import pytest

from households.importing import get_kind, kind_names
from indicators.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# Spelled in two parts so that this file does not match itself.
OUTSIDE = ("../" + "shared", "/work/" + "shared")


@pytest.fixture(scope="module")
def gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(gen_docs, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    gen_docs.write(out)
    return out


def _between_markers(gen_docs, text):
    start, end = text.index(gen_docs.START), text.index(gen_docs.END)
    return text[start:end]


def test_indicators_page_is_up_to_date(generated):
    committed = (DOCS / "indicators.md").read_text(encoding="utf-8")
    assert committed == (generated / "indicators.md").read_text(encoding="utf-8"), "run python tools/gen_docs.py"


def test_templates_tables_are_up_to_date(gen_docs, generated):
    committed = (DOCS / "templates.md").read_text(encoding="utf-8")
    fresh = (generated / "templates.md").read_text(encoding="utf-8")
    assert _between_markers(gen_docs, committed) == _between_markers(gen_docs, fresh), "run python tools/gen_docs.py"
    assert committed == fresh  # the hand-written prose around the tables is kept as it is


def test_every_indicator_and_template_is_documented(generated):
    indicators = (generated / "indicators.md").read_text(encoding="utf-8")
    templates = (generated / "templates.md").read_text(encoding="utf-8")
    for entry in CATALOGUE:
        assert f"### {entry.code} {entry.name}\n" in indicators
    assert len(kind_names()) == 10
    for name in kind_names():
        assert f"### `{name}`" in templates
        for column in get_kind(name).columns:
            assert f"| {column.header} | `{column.field}` |" in templates


def _text_files():
    yield ROOT / "README.md"
    for folder in (DOCS, ROOT / "tests"):
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                yield path


def test_nothing_points_outside_the_repository():
    offending = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in _text_files()
        for needle in OUTSIDE
        if needle.encode() in path.read_bytes()
    ]
    assert offending == []
