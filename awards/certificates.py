"""Draw one certificate PDF with reportlab.

Plain values in (``CertificateData`` and ``Layout``), PDF bytes out: the batch
tasks, the layout editor's preview and the benchmark all call ``render_pdf``.

Fonts: reportlab embeds only TrueType (glyf) outlines. Debian's fonts-noto-cjk
ships CFF (PostScript-outline) OpenType collections, which reportlab refuses
("postscript outlines are not supported"), so certificates use the TrueType
collections of fonts-arphic-uming (宋体-like, the default), fonts-arphic-ukai
(楷体) and fonts-wqy-zenhei (黑体, widest coverage: the fallback for rare
characters in names). Each string is drawn in the first font that has all of
its characters, and the font is embedded as a subset.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Rect
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A3, A4, A5, B5, landscape, portrait
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas

# Bump when the drawing code changes what a certificate looks like, so every
# stored certificate's fingerprint changes and a re-run renders them again.
RENDERER_VERSION = 1

# family → candidate (file, subfont index), first found wins.
FONT_FILES: dict[str, list[tuple[str, int]]] = {
    "song": [("/usr/share/fonts/truetype/arphic/uming.ttc", 0)],
    "kai": [("/usr/share/fonts/truetype/arphic/ukai.ttc", 0)],
    "hei": [
        ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
        ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ],
}
# The order in which families are tried when the preferred one lacks a glyph.
FALLBACK_ORDER = ("song", "kai", "hei")
DEBIAN_FONT_PACKAGES = "fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei"

PAGE_SIZES = {"A4": A4, "A3": A3, "A5": A5, "B5": B5}

# Fields a layout places. "title" and "note" are fixed text (no value).
FIELDS = (
    "title",
    "athlete",
    "delegation",
    "programme",
    "skill",
    "award",
    "note",
    "issuing_body",
    "date",
    "serial",
    "qr",
)
VALUE_FIELDS = ("programme", "athlete", "delegation", "skill", "award", "date", "issuing_body")
STATIC_FIELDS = ("title", "note")


class CertificateFontMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class FieldSpec:
    x: float  # mm from the left edge (the anchor: left, centre or right per align)
    y: float  # mm from the top edge to the text baseline (QR: its top edge)
    size: float  # font size in pt; for the QR code its side in mm
    align: str = "left"
    text: str = "{}"  # "{}" is replaced by the value
    font: str = "song"
    color: str = "#111111"
    max_width: float = 0  # mm; a longer text is shrunk to fit (0: no limit)
    after: str = ""  # another field's name: continue on its line, x is then a gap in mm


@dataclass(frozen=True)
class Layout:
    page_size: str = "A4"
    orientation: str = "landscape"
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    draw_border: bool = True
    background: bytes | None = None  # JPEG/PNG bytes drawn under everything
    version: int = 1

    @property
    def pagesize(self) -> tuple[float, float]:
        size = PAGE_SIZES.get(self.page_size, A4)
        return landscape(size) if self.orientation == "landscape" else portrait(size)


@dataclass(frozen=True)
class CertificateData:
    programme: str
    athlete: str
    delegation: str
    skill: str
    award: str
    date: str
    issuing_body: str
    serial: str
    verify_url: str


SAMPLE = CertificateData(
    programme="2026年全省职业技能大赛",
    athlete="欧阳淑珺",
    delegation="苏州市代表团",
    skill="移动机器人",
    award="金牌",
    date="2026年5月17日",
    issuing_body="江苏省人力资源和社会保障厅",
    serial="SAMPLE-2026-000001",
    verify_url="https://example.org/verify/SAMPLE-2026-000001/",
)


def default_fields(page_size: str = "A4", orientation: str = "landscape") -> dict[str, dict]:
    """A traditional 荣誉证书 arrangement, scaled to the page."""
    w, h = Layout(page_size=page_size, orientation=orientation).pagesize
    w_mm, h_mm = w / mm, h / mm
    sx, sy = w_mm / 297, h_mm / 210  # designed on A4 landscape
    s = min(sx, sy)
    cx = w_mm / 2

    def f(x, y, size, **kw) -> dict:
        return {"x": round(x, 1), "y": round(y, 1), "size": round(size, 1), **kw}

    red = "#9b1c1c"
    return {
        "title": f(cx, 52 * sy, 44 * s, align="center", text="荣 誉 证 书", font="kai", color=red),
        "athlete": f(38 * sx, 84 * sy, 24 * s, text="{} 同志：", font="kai"),
        "programme": f(50 * sx, 104 * sy, 17 * s, text="在{}中，"),
        "delegation": f(0, 0, 17 * s, text="代表{}参加", after="programme"),
        "skill": f(50 * sx, 120 * sy, 17 * s, text="{}赛项比赛，成绩优异，荣获："),
        "award": f(cx, 146 * sy, 44 * s, align="center", font="kai", color=red),
        "note": f(50 * sx, 164 * sy, 17 * s, text="特发此证，以资鼓励。"),
        "issuing_body": f(262 * sx, 176 * sy, 17 * s, align="right", max_width=120 * sx),
        "date": f(262 * sx, 187 * sy, 15 * s, align="right"),
        "qr": f(26 * sx, 168 * sy, 20 * s),
        "serial": f(49 * sx, 187.5 * sy, 9 * s, text="证书编号：{}", color="#444444"),
    }


def layout_fields(raw: dict | None, page_size: str, orientation: str) -> dict[str, FieldSpec]:
    """Merge stored field settings over the defaults; unknown keys are ignored."""
    merged = default_fields(page_size, orientation)
    for name, spec in (raw or {}).items():
        if name in merged and isinstance(spec, dict):
            merged[name] = {**merged[name], **spec}
    allowed = set(FieldSpec.__dataclass_fields__)
    return {
        name: FieldSpec(**{k: v for k, v in spec.items() if k in allowed})
        for name, spec in merged.items()
    }


# ------------------------------------------------------------------ fonts


@cache
def _font(family: str) -> tuple[str, frozenset[int]] | None:
    """Register the family's font once per process; (font name, code points)."""
    for path, index in FONT_FILES.get(family, []):
        if not Path(path).exists():
            continue
        name = f"cert-{family}"
        try:
            ttf = TTFont(name, path, subfontIndex=index)
        except TTFError:
            continue
        pdfmetrics.registerFont(ttf)
        return name, frozenset(ttf.face.charToGlyph)
    return None


def available_families() -> list[str]:
    return [f for f in FALLBACK_ORDER if _font(f) is not None]


def font_for(text: str, preferred: str) -> str:
    """The first font (preferred family, then the fallbacks) with every glyph."""
    order = [preferred, *(f for f in FALLBACK_ORDER if f != preferred)]
    found = [(name, cmap) for fam in order if (got := _font(fam)) for name, cmap in [got]]
    if not found:
        raise CertificateFontMissing(
            "No TrueType CJK font found for certificates; install the Debian "
            f"packages {DEBIAN_FONT_PACKAGES}."
        )
    needed = {ord(c) for c in text if not c.isspace()}
    for name, cmap in found:
        if needed <= cmap:
            return name
    return found[0][0]  # nothing covers it all: draw what the main font has


# ------------------------------------------------------------------ drawing


def _qr_widget(url: str, side: float = 0) -> QrCodeWidget:
    """ReportLab's own QR code (error correction M, no border: the quiet zone
    is drawn around it), with its module matrix made."""
    widget = QrCodeWidget(url, barLevel="M", barBorder=0, barWidth=side, barHeight=side)
    widget.qr.make()
    return widget


def _qr_modules(url: str) -> list[list[bool]]:
    return [[bool(m) for m in row] for row in _qr_widget(url).qr.modules]


def _draw_qr(c: canvas.Canvas, url: str, x: float, top: float, side: float) -> None:
    """Vector QR code on a white quiet zone of two modules: the widget lays
    out one rectangle per run of dark modules (crisp at any size), drawn here
    as one path. Not through renderPDF: a Drawing sets a default font, and a
    certificate embeds every font it names."""
    widget = _qr_widget(url, side)
    cell = side / widget.qr.getModuleCount()
    c.setFillColor(HexColor("#ffffff"))
    c.rect(x - cell * 2, top - side - cell * 2, side + cell * 4, side + cell * 4, stroke=0, fill=1)
    c.setFillColor(HexColor("#000000"))
    path = c.beginPath()
    for shape in widget.draw().contents:
        if isinstance(shape, Rect) and shape.fillColor is not None:  # the frame has none
            path.rect(x + shape.x, top - side + shape.y, shape.width, shape.height)
    c.drawPath(path, stroke=0, fill=1)


def _draw_border(c: canvas.Canvas, w: float, h: float) -> None:
    gold = HexColor("#b8860b")
    red = HexColor("#9b1c1c")
    c.setStrokeColor(gold)
    c.setLineWidth(3)
    c.rect(10 * mm, 10 * mm, w - 20 * mm, h - 20 * mm)
    c.setLineWidth(0.8)
    c.rect(13 * mm, 13 * mm, w - 26 * mm, h - 26 * mm)
    c.setFillColor(red)
    for cx, cy in ((13, 13), (w / mm - 13, 13), (13, h / mm - 13), (w / mm - 13, h / mm - 13)):
        c.rect((cx - 2.5) * mm, (cy - 2.5) * mm, 5 * mm, 5 * mm, stroke=0, fill=1)


def _draw_text(
    c: canvas.Canvas,
    spec: FieldSpec,
    text: str,
    page_h: float,
    ends: dict[str, tuple[float, float]],
) -> tuple[float, float]:
    """Draw and return where the text ends (x, baseline y) for fields placed after it."""
    x, y = spec.x * mm, page_h - spec.y * mm
    if spec.after and spec.after in ends:
        end_x, y = ends[spec.after]
        x = end_x + spec.x * mm
    if not text:
        return x, y
    font = font_for(text, spec.font)
    size = spec.size
    width = pdfmetrics.stringWidth(text, font, size)
    if spec.max_width and width > spec.max_width * mm:
        size = size * spec.max_width * mm / width
        width = spec.max_width * mm
    c.setFont(font, size)
    c.setFillColor(HexColor(spec.color))
    if spec.align == "center" and not spec.after:
        c.drawCentredString(x, y, text)
        return x + width / 2, y
    if spec.align == "right" and not spec.after:
        c.drawRightString(x, y, text)
        return x, y
    c.drawString(x, y, text)
    return x + width, y


def field_text(name: str, spec: FieldSpec, data: CertificateData) -> str:
    if name in STATIC_FIELDS:
        return spec.text
    value = getattr(data, name, "")
    if not value:
        return ""
    return spec.text.replace("{}", value) if "{}" in spec.text else f"{spec.text}{value}"


def _drawing_order(fields: dict[str, FieldSpec]) -> list[str]:
    """FIELDS order, except that a field placed after another comes after it."""
    order: list[str] = []

    def visit(name: str, seen: frozenset[str]) -> None:
        if name in order or name not in fields or name in seen:
            return  # a cycle of "after"s is broken by ignoring the back edge
        after = fields[name].after
        if after:
            visit(after, seen | {name})
        order.append(name)

    for name in FIELDS:
        visit(name, frozenset())
    return order


def render_pdf(data: CertificateData, layout: Layout) -> bytes:
    buf = io.BytesIO()
    w, h = layout.pagesize
    # The initial font is set so no unembedded Helvetica is declared in the page.
    c = canvas.Canvas(buf, pagesize=(w, h), pageCompression=1, initialFontName=font_for("", "song"))
    c.setTitle(f"{data.award} · {data.athlete} · {data.serial}")
    c.setAuthor(data.issuing_body or data.programme)
    c.setSubject(data.verify_url)
    if layout.background:
        c.drawImage(ImageReader(io.BytesIO(layout.background)), 0, 0, width=w, height=h)
    if layout.draw_border:
        _draw_border(c, w, h)
    ends: dict[str, tuple[float, float]] = {}
    for name in _drawing_order(layout.fields):
        spec = layout.fields[name]
        if name == "qr":
            if spec.size > 0:
                _draw_qr(c, data.verify_url, spec.x * mm, h - spec.y * mm, spec.size * mm)
            continue
        ends[name] = _draw_text(c, spec, field_text(name, spec, data), h, ends)
    c.showPage()
    c.save()
    return buf.getvalue()


def fingerprint(data: CertificateData, layout_version: int) -> str:
    """Hash of every printed value and the layout version: equal → same PDF."""
    payload = json.dumps(
        {"data": asdict(data), "layout": layout_version, "renderer": RENDERER_VERSION},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()
