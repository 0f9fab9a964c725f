"""A 220-aspect CIS scheme on the judge's marking page: a criterion index
with every criterion and sub-criterion, and a progress line in the sticky bar."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from django.utils import timezone

from tablets import pin_hashing
from tablets.models import JudgeCredential
from tests import factories as f

from .conftest import PIN, tablet_client

CIS_EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "examples"
    / "worldskills-cis-marking-scheme-web-technologies.xlsx"
)


def cis_world():
    """A skill with the shared CIS example as its scheme, one judge with the
    test PIN and one entry, 201."""
    from interchange.cis.cis_sheet import read_cis
    from interchange.cis.store import apply_scheme
    from interchange.cis.workbook import load_scheme_workbook

    skill = f.skill(code="S17", name="网站设计与开发")
    apply_scheme(skill, read_cis(load_scheme_workbook(CIS_EXAMPLE)))
    judge = f.judge(skill, code="JW01")
    JudgeCredential.objects.create(
        judge=judge, pin_hash=pin_hashing.hash_pin(PIN), set_at=timezone.now()
    )
    entry = f.entry(skill, competitor_no="201")
    return skill, judge, entry


@pytest.mark.skipif(not CIS_EXAMPLE.exists(), reason="shared CIS example missing")
@pytest.mark.django_db
def test_a_long_scheme_has_an_index_and_a_progress_line():
    skill, judge, _entry = cis_world()
    client, _ = tablet_client(judge, HTTP_ACCEPT_ENCODING="gzip")
    response = client.get(f"/tablet/{skill.pk}/201/")
    page = gzip.decompress(response.content).decode()
    index = page[page.index('id="index"') : page.index("</nav>", page.index('id="index"'))]
    criteria = re.findall(r'class="ci" href="#(crit-\d+)"', index)
    subs = re.findall(r'class="si" href="#(sub-\d+-\d+)"', index)
    assert len(criteria) == 4 and len(subs) == 30
    # Every link has its target on the page.
    for target in criteria + subs:
        assert f'id="{target}"' in page
    assert page.count('class="aspect') == 220
    bar = page[page.index('<header class="tbar"') : page.index("</header>")]
    assert 'id="progress-line"' in bar and '已评 <b data-done>0</b> / <span id="total">220' in bar
    assert 'href="#index"' in bar and 'id="next-empty"' in bar
    # Not compressed, the page is large; gzipped it stays small for venue Wi-Fi.
    assert len(response.content) < 40_000  # about 17 KB measured
