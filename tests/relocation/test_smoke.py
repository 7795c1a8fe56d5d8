import pytest


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


@pytest.mark.django_db
def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_login_page_is_english_for_an_english_browser(client):
    """The English catalogue (locale/en) is compiled and used: not the Chinese source strings."""
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'lang="en"' in page
    assert "Log in" in page
    assert "登录" not in page


def test_every_message_has_an_english_translation_and_the_compiled_catalogue_is_current():
    """A string added to the code without a translation shows in Chinese to English users; a .po
    changed without ``compilemessages`` is not what Django reads."""
    import gettext
    from pathlib import Path

    catalogue = Path(__file__).resolve().parents[2] / "locale/en/LC_MESSAGES/django.po"
    entries = [entry for entry in catalogue.read_text(encoding="utf-8").split("\n\n")[1:] if "msgid" in entry]
    untranslated = [entry for entry in entries if entry.rstrip().endswith(('msgstr ""', 'msgstr[1] ""'))]
    assert not untranslated
    assert not [entry for entry in entries if "#, fuzzy" in entry]
    with catalogue.with_suffix(".mo").open("rb") as compiled:
        messages = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    compiled_ids = {key[0] if isinstance(key, tuple) else key for key in messages} - {""}
    assert len(compiled_ids) == len(entries)
