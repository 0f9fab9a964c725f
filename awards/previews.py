"""Raster work on certificates: an uploaded background normalised to one JPEG
(PIL, pdftoppm for a PDF) and a PDF page as a PNG (pdftoppm)."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path


def normalise_background(upload_name: str, data: bytes, pagesize: tuple[float, float]) -> bytes:
    """Turn an uploaded image or PDF into one JPEG at 150 dpi of the page size:
    reportlab copies JPEG bytes into each PDF without re-encoding them."""
    from PIL import Image

    if upload_name.lower().endswith(".pdf") or data[:5] == b"%PDF-":
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "bg.pdf"
            src.write_bytes(data)
            # poppler-utils (Debian) rasterises the first page.
            subprocess.run(
                [
                    "pdftoppm",
                    "-r",
                    "150",
                    "-singlefile",
                    "-f",
                    "1",
                    "-png",
                    str(src),
                    str(Path(tmp) / "bg"),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            data = (Path(tmp) / "bg.png").read_bytes()
    image: Image.Image = Image.open(io.BytesIO(data))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.split()[-1])
        image = flat
    else:
        image = image.convert("RGB")
    w_px = round(pagesize[0] / 72 * 150)
    h_px = round(pagesize[1] / 72 * 150)
    image = image.resize((w_px, h_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def pdf_to_png(pdf: bytes, dpi: int = 60) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "p.pdf"
        src.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-singlefile", "-png", str(src), str(Path(tmp) / "p")],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return (Path(tmp) / "p.png").read_bytes()
