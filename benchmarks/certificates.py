"""Certificates of the national preset against the reportlab floor.

Builds an event with ``--count`` award certificates (default 5,000, about the
national preset: 4,059 entries, team members each get one, plus titles),
spread over 109 skills and 36 delegations, then times, side by side:

* the portal: what the Celery workers do for a batch — ``prepare_batch``
  (issue serials, cut chunks), ``render_chunk`` over every chunk (read rows,
  fingerprint, draw, store through ``default_storage``, progress updates) and
  ``finish_batch`` (one zip plus one per delegation) — run in this process;
* the floor: the same certificates drawn with reportlab alone (same fonts,
  same fields and positions, same vector QR code, each PDF written to a
  file), no Django, no database;

and the ratio (target ≤ 2×). A second batch over unchanged certificates shows
the cost of a re-run that draws nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

from benchmarks import django_env

HELP = "certificate batch (national preset, ~5,000) vs bare reportlab drawing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, default=5000, help="certificates to produce")
    parser.add_argument("--skills", type=int, default=109)
    parser.add_argument("--delegations", type=int, default=36)
    parser.add_argument("--chunk", type=int, default=100, help="certificates per task")


def _build(count: int, n_skills: int, n_delegations: int):
    """An event whose ``count`` entries each hold one award (bulk inserts)."""
    from django.utils import timezone

    from awards.models import Award
    from competitions.models import Event, Programme, Skill
    from scoring.models import SkillMarking
    from teams.models import Athlete, Delegation, Entry, EntryMember

    stamp = time.strftime("%H%M%S")
    programme = Programme.objects.create(
        code=f"bench{stamp}",
        name="2026年全国职业技能大赛",
        year=2026,
        issuing_body="人力资源和社会保障部",
    )
    event = Event.objects.create(
        programme=programme, code=f"bench-final-{stamp}", name="2026年全国职业技能大赛决赛"
    )
    delegations = Delegation.objects.bulk_create(
        Delegation(code=f"B{stamp}{i:02d}", name=f"第{i + 1}代表团") for i in range(n_delegations)
    )
    skills = Skill.objects.bulk_create(
        Skill(event=event, code=f"S{i:03d}", name=f"赛项{i + 1:03d}", award_policy="ratio")
        for i in range(n_skills)
    )
    SkillMarking.objects.bulk_create(
        SkillMarking(skill=s, status=SkillMarking.Status.SIGNED_OFF) for s in skills
    )
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
    athletes = Athlete.objects.bulk_create(
        Athlete(
            delegation=delegations[i % n_delegations],
            name=surnames[i % 20] + given[(i * 7) % len(given)] + given[(i * 13) % len(given)],
        )
        for i in range(count)
    )
    entries = Entry.objects.bulk_create(
        Entry(
            skill=skills[i % n_skills],
            delegation=delegations[i % n_delegations],
            competitor_no=f"{i:05d}",
        )
        for i in range(count)
    )
    EntryMember.objects.bulk_create(
        EntryMember(entry=e, athlete=a, event=event) for e, a in zip(entries, athletes, strict=True)
    )
    kinds = ["first", "second", "second", "third", "third", "third"]
    now = timezone.now()
    Award.objects.bulk_create(
        Award(
            entry=e,
            skill_id=e.skill_id,
            kind=kinds[i % len(kinds)],
            policy="ratio",
            rank=1 + i // n_skills,
            computed_at=now,
        )
        for i, e in enumerate(entries)
    )
    return event


def _floor(rows: list[dict], out_dir: Path) -> float:
    """Bare reportlab: the same page, fields and QR code, one file per certificate."""
    import qrcode
    import qrcode.constants
    from reportlab.lib.colors import HexColor
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("floor-song", "/usr/share/fonts/truetype/arphic/uming.ttc"))
    pdfmetrics.registerFont(TTFont("floor-kai", "/usr/share/fonts/truetype/arphic/ukai.ttc"))
    w, h = landscape(A4)
    red, gold = HexColor("#9b1c1c"), HexColor("#b8860b")
    black, grey = HexColor("#111111"), HexColor("#444444")
    start = time.perf_counter()
    for row in rows:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=(w, h), initialFontName="floor-song")
        c.setStrokeColor(gold)
        c.setLineWidth(3)
        c.rect(10 * mm, 10 * mm, w - 20 * mm, h - 20 * mm)
        c.setLineWidth(0.8)
        c.rect(13 * mm, 13 * mm, w - 26 * mm, h - 26 * mm)
        c.setFillColor(red)
        for cx, cy in ((13, 13), (w / mm - 13, 13), (13, h / mm - 13), (w / mm - 13, h / mm - 13)):
            c.rect((cx - 2.5) * mm, (cy - 2.5) * mm, 5 * mm, 5 * mm, stroke=0, fill=1)
        c.setFont("floor-kai", 44)
        c.drawCentredString(148.5 * mm, h - 52 * mm, "荣 誉 证 书")
        c.setFillColor(black)
        c.setFont("floor-kai", 24)
        c.drawString(38 * mm, h - 84 * mm, f"{row['athlete']} 同志：")
        c.setFont("floor-song", 17)
        line = f"在{row['programme']}中，"
        c.drawString(50 * mm, h - 104 * mm, line)
        x = 50 * mm + pdfmetrics.stringWidth(line, "floor-song", 17)
        c.drawString(x, h - 104 * mm, f"代表{row['delegation']}参加")
        c.drawString(50 * mm, h - 120 * mm, f"{row['skill']}赛项比赛，成绩优异，荣获：")
        c.setFillColor(red)
        c.setFont("floor-kai", 44)
        c.drawCentredString(148.5 * mm, h - 146 * mm, row["award"])
        c.setFillColor(black)
        c.setFont("floor-song", 17)
        c.drawString(50 * mm, h - 164 * mm, "特发此证，以资鼓励。")
        c.drawRightString(262 * mm, h - 176 * mm, row["issuing_body"])
        c.setFont("floor-song", 15)
        c.drawRightString(262 * mm, h - 187 * mm, row["date"])
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        qr.add_data(row["url"])
        qr.make(fit=True)
        matrix = qr.get_matrix()
        cell = 20 * mm / len(matrix)
        path = c.beginPath()
        for r, line_ in enumerate(matrix):
            for col, dark in enumerate(line_):
                if dark:
                    path.rect(26 * mm + col * cell, h - 168 * mm - (r + 1) * cell, cell, cell)
        c.setFillColor(HexColor("#000000"))
        c.drawPath(path, stroke=0, fill=1)
        c.setFillColor(grey)
        c.setFont("floor-song", 9)
        c.drawString(49 * mm, h - 187.5 * mm, f"证书编号：{row['serial']}")
        c.showPage()
        c.save()
        (out_dir / f"{row['serial']}.pdf").write_bytes(buf.getvalue())
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> int:
    media = Path(tempfile.mkdtemp(prefix="bench-certificates-"))
    os.environ["DJANGO_MEDIA_ROOT"] = str(media / "media")
    database, _migrate = django_env.setup(media / "bench.sqlite3")

    from awards import batches, layouts, rendering, zips
    from awards.models import Certificate, CertificateBatch

    print(f"database: {database}; files: {media}")
    t0 = time.perf_counter()
    event = _build(args.count, args.skills, args.delegations)
    print(f"built {args.count} awards in {time.perf_counter() - t0:.1f} s")

    def batch_run() -> tuple[float, float, float, CertificateBatch]:
        batch = batches.create_batch(event, size=args.chunk)
        t = time.perf_counter()
        chunk_ids = batches.prepare_batch(batch)
        t_prepare = time.perf_counter() - t
        t = time.perf_counter()
        for chunk_id in chunk_ids:
            batches.render_chunk(chunk_id)
        t_render = time.perf_counter() - t
        t = time.perf_counter()
        batch = zips.finish_batch(batch.pk)
        t_zip = time.perf_counter() - t
        return t_prepare, t_render, t_zip, batch

    prepare, render, pack, batch = batch_run()
    n = batch.total
    assert batch.done == n and batch.errors == 0, batch.error_log

    # The floor draws exactly what the portal drew, from values read beforehand.
    layout = layouts.layout_for(event.programme)
    certs = Certificate.objects.filter(event=event, revoked=False).select_related(
        "programme", "event", "athlete", "delegation", "entry__skill"
    )
    rows = []
    for cert in certs:
        d = rendering.certificate_data(cert, layout)
        rows.append({**d.__dict__, "url": d.verify_url})
    floor_dir = media / "floor"
    floor_dir.mkdir()
    floor = _floor(rows, floor_dir)

    re_prepare, re_render, re_pack, again = batch_run()
    assert again.rendered == 0

    ms = 1000 / n
    print(f"\n{n} certificates, chunks of {args.chunk}")
    print(f"{'':34}{'total s':>10}{'ms / cert':>12}")
    print(f"{'portal: issue + chunk':34}{prepare:10.2f}{prepare * ms:12.2f}")
    print(f"{'portal: render (worker tasks)':34}{render:10.2f}{render * ms:12.2f}")
    print(f"{'portal: zips (all + per delegation)':34}{pack:10.2f}{pack * ms:12.2f}")
    total = prepare + render + pack
    print(f"{'portal: whole batch':34}{total:10.2f}{total * ms:12.2f}")
    print(f"{'floor: reportlab alone':34}{floor:10.2f}{floor * ms:12.2f}")
    print(
        f"{'re-run, nothing changed':34}{re_prepare + re_render + re_pack:10.2f}"
        f"{(re_prepare + re_render + re_pack) * ms:12.2f}"
    )
    print(f"\nratio render / floor:       {render / floor:.2f}×  (target ≤ 2×)")
    print(f"ratio whole batch / floor:  {total / floor:.2f}×")
    return 0


if __name__ == "__main__":
    import sys

    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
