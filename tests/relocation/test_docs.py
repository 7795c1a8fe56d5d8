"""The project's own documentation stays true to the code, and nothing points outside the repository.

docs/indicators.md and the column tables of docs/templates.md are written by tools/gen_docs.py from
the catalogue, the engine's rules and the import kinds: these tests fail when a change to any of
them was not followed by ``python tools/gen_docs.py``.
"""

import importlib.util
import re
from pathlib import Path

import pytest

from households.importing import get_kind, kind_names
from indicators.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)")


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


def _markdown_files():
    yield ROOT / "README.md"
    yield from DOCS.rglob("*.md")
    yield from (ROOT / "tests").rglob("*.md")


def test_every_link_of_the_docs_stays_inside_the_repository():
    """The project stands alone: a relative link in the README or the docs names a file of this
    repository (nothing beside it), and that file exists."""
    broken = []
    for path in _markdown_files():
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == []
