"""Chinese everywhere: every catalogue entry is translated, every string the
code or a template wraps in gettext is in a catalogue, the catalogues build
themselves when Django starts, and the pages each role reaches from "/" show
no English-only words (beyond a short list of terms used as they are)."""

from __future__ import annotations

import io
import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_python
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

from portal import i18n

ROOT = Path(__file__).resolve().parents[2]

# gettext's names as this project imports them (``gettext_lazy as _`` included).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
CONTEXT_FUNCS = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}

# Terms a Chinese page uses as they are: names, abbreviations, file formats.
ALLOWED_WORDS = {
    "CIS", "PDF", "Excel", "QR", "PIN", "ID", "WSOS", "WorldSkills",
    "XLSX", "XLS", "CSV", "TSV", "JSON", "HTML", "YAML", "ODS", "ZIP",
    "PNG", "JPG", "JPEG", "DOCX", "MB", "KB",
}  # fmt: skip
# Sheet names and single-word column keys of the documented workbooks
# (docs/formats.md, docs/accounts.md, docs/rewards.md): identifiers a user types
# into Excel, English by definition. Lower case only, so an untranslated label
# ("Name", "Score") is still caught.
FORMAT_KEYS = {
    "delegations", "skills", "entries", "judges", "aspects", "marks", "rewards",
    "leads", "rankings", "totals", "code", "name", "gender", "role", "chief", "judge",
    "type", "score", "criterion", "username", "email", "outcome", "credits",
}  # fmt: skip


def _source_files(pattern: str) -> list[Path]:
    skip = {".venv", "tests", "migrations", "node_modules"}
    return sorted(p for p in ROOT.glob(pattern) if not skip & set(p.relative_to(ROOT).parts))


def _catalogues() -> dict[Path, list]:
    out = {}
    for path in i18n.catalogues():
        with path.open("rb") as f:
            out[path] = list(read_po(f, locale=path.parent.parent.name))
    return out


def _known() -> set[tuple[str | None, str]]:
    return {
        (m.context, m.id if isinstance(m.id, str) else m.id[0])
        for messages in _catalogues().values()
        for m in messages
        if m.id
    }


def _messages(fileobj, origin: str):
    for lineno, func, message, _comments in extract_python(fileobj, KEYWORDS, [], {}):
        context = None
        if isinstance(message, tuple):
            if func in CONTEXT_FUNCS:
                context, message = message[0], message[1]
            else:
                message = message[0]
        if message:
            yield origin, lineno, context, message


def wrapped_strings():
    """Every gettext-wrapped string of the project's code and templates.
    Templates go through Django's own ``templatize`` (what ``makemessages``
    uses), so blocktranslate placeholders come out as ``%(name)s``."""
    for path in _source_files("**/*.py"):
        with path.open("rb") as f:
            yield from _messages(f, str(path.relative_to(ROOT)))
    for path in _source_files("**/templates/**/*.html"):
        code = templatize(path.read_text(), origin=str(path))
        # Babel's tokenizer wants Python; templatize keeps the template's
        # indentation, which means nothing here.
        code = "\n".join(line.lstrip() for line in code.splitlines())
        yield from _messages(io.BytesIO(code.encode()), str(path.relative_to(ROOT)))


def test_every_catalogue_entry_is_translated():
    untranslated = [
        f"{path.relative_to(ROOT)}: {m.id!r}"
        for path, messages in _catalogues().items()
        for m in messages
        if m.id
        and (
            not (m.string if isinstance(m.string, str) else all(m.string))
            or m.fuzzy
        )
    ]
    assert untranslated == []


def test_every_wrapped_string_is_in_a_catalogue():
    known = _known()
    missing = sorted(
        f"{origin}:{lineno}: {message!r}" + (f" (context {context!r})" if context else "")
        for origin, lineno, context, message in wrapped_strings()
        if (context, message) not in known
    )
    assert missing == [], "add these to the app's locale/zh_Hans/LC_MESSAGES/django.po"


def test_the_extractor_sees_templates_code_and_placeholders():
    found = {(o, c, m) for o, _l, c, m in wrapped_strings()}
    assert ("templates/home.html", None, "Welcome") in found
    assert ("templates/results/scoreboard.html", None, "Scoreboard") in found
    assert ("results/publishing.py", "status", "Marking") in found
    assert ("appeals/services.py", None, "%(at)s Beijing time") in found
    assert (
        "templates/results/_scoreboard_live.html",
        None,
        "%(n)s of %(m)s skills published",
    ) in found


# ------------------------------------------------------------------ compiled at start-up


def test_catalogues_are_compiled_when_missing_or_older_than_their_source(tmp_path, monkeypatch):
    source = ROOT / "results" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_bytes(source.read_bytes())
    monkeypatch.setattr(i18n, "catalogues", lambda: [po])
    mo = po.with_suffix(".mo")
    assert i18n.compile_stale() == [mo]
    import gettext

    with mo.open("rb") as f:
        assert gettext.GNUTranslations(f).gettext("Latest results") == "最新成绩"
    assert i18n.compile_stale() == []  # up to date: nothing written
    later = mo.stat().st_mtime + 10
    import os

    os.utime(po, (later, later))
    assert i18n.compile_stale() == [mo]  # the .po changed after the .mo
    assert not list(po.parent.glob(".django-*"))  # no temporary file left


def test_the_portal_compiles_its_catalogues_when_django_starts():
    from django.apps import apps

    config = apps.get_app_config("admin")
    assert type(config).__module__ == "portal.apps"
    assert not [p for p in i18n.catalogues() if i18n.is_stale(p)]


def test_a_read_only_install_starts_anyway(tmp_path, monkeypatch):
    po = tmp_path / "zh_Hans" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n')
    monkeypatch.setattr(i18n, "catalogues", lambda: [po])

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(i18n.tempfile, "mkstemp", refuse)
    assert i18n.compile_stale() == []


# ------------------------------------------------------------------ the pages people see

SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "samp"}
WORD = re.compile(r"(?<![\w@./:#%&=?~\\-])[A-Za-z][A-Za-z’']*[A-Za-z](?![\w@/:#%&=?~\\-])")
ATTRS = {"placeholder", "title", "aria-label", "alt"}


class _Text(HTMLParser):
    """The words a visitor reads: text nodes and a few attributes, leaving
    out code samples and anything marked as another language."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.chunks: list[str] = []
        self.links: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _t, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        lang = (a.get("lang") or "").lower()
        skip = tag in SKIP_TAGS or (bool(lang) and not lang.startswith("zh"))
        if not (skip or self._skipping()):
            # Django's admin icons carry alt="True"/"Search", fixed in its code.
            admin_icon = tag == "img" and "/admin/img/" in (a.get("src") or "")
            self.chunks.extend(
                v for k, v in a.items() if k in ATTRS and v and not (admin_icon and k == "alt")
            )
            if tag == "input" and a.get("type") in {"submit", "button"} and a.get("value"):
                self.chunks.append(a["value"])
        if tag not in {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col"}:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._skipping():
            self.chunks.append(data)


def english_words(html: str, allowed: set[str]) -> tuple[set[str], list[str]]:
    parser = _Text()
    parser.feed(html)
    words = {w for chunk in parser.chunks for w in WORD.findall(chunk)}
    return {w for w in words if w not in allowed and w.upper() not in allowed}, parser.links


SKIP_URL = re.compile(
    r"^/(static|media|i18n)/|logout|/download|\.xlsx|\.pdf|\.zip|\.svg|sw\.js|/delete/|/admin/r/"
    r"|/export/|/results\.xlsx|/api/"
)


def crawl(client, allowed: set[str], limit: int = 90) -> tuple[dict[str, set[str]], dict]:
    """Breadth first from "/", GET only, this site only, no query strings."""
    seen, queue = {"/"}, deque(["/"])
    found: dict[str, set[str]] = {}
    status: dict[str, int] = {}
    while queue and len(status) < limit:
        url = queue.popleft()
        response = client.get(url)
        status[url] = response.status_code
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        words, links = english_words(response.content.decode(), allowed)
        if words:
            found[url] = words
        for href in links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not href.startswith("/") or parts.query:
                continue
            if SKIP_URL.search(href) or href in seen:
                continue
            seen.add(href)
            queue.append(href)
    return found, status


@pytest.fixture
def site(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from competitions.models import Event, Programme, Skill
    from teams.models import Delegation, Judge
    from tests import factories as f
    from tests.results.builders import world

    w = world()
    w.publish()
    data = {
        *Delegation.objects.values_list("code", flat=True),
        *Skill.objects.values_list("code", flat=True),
        *Event.objects.values_list("code", flat=True),
        *Programme.objects.values_list("code", flat=True),
        *Judge.objects.values_list("code", flat=True),
    }
    return w, f, {*ALLOWED_WORDS, *FORMAT_KEYS, *data}


@pytest.mark.parametrize("role", ["anonymous", "organiser", "chief", "judge", "lead"])
def test_pages_each_role_reaches_from_home_are_chinese(client, site, role):
    w, _f, allowed = site
    user = {
        "anonymous": None,
        "organiser": w.organiser,
        "chief": w.chief,
        "judge": w.judge,
        "lead": w.lead_a,
    }[role]
    if user is not None:
        allowed = allowed | {user.username}
        client.force_login(user)
    found, status = crawl(client, allowed)
    assert len(status) > 2, status  # it did walk somewhere
    assert [u for u, s in status.items() if s >= 500] == []
    english = {url: sorted(words) for url, words in found.items()}
    assert english == {}, "English-only words on Chinese pages"


def test_the_word_finder_finds_english_and_leaves_codes_alone():
    words, _links = english_words(
        '<p title="Open">评分 Marking S01 DJ00002 user12 CIS</p><code>python manage.py</code>'
        '<button lang="en">English</button><input type="submit" value="Save">',
        ALLOWED_WORDS,
    )
    assert words == {"Open", "Marking", "Save"}
