"""Draws the Teams app icons (run once; the PNGs are committed in appPackage/).

    PYTHONPATH=. python -m adapters.teams.icons

Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is white on a
transparent background. The glyph: a case file (clipboard) with a clinical cross.
Pillow comes with matplotlib; the running bot never imports this module.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

PACKAGE_DIR = Path(__file__).parent / "appPackage"
ACCENT = (31, 78, 121, 255)  # the manifest's accentColor, #1F4E79
WHITE = (255, 255, 255, 255)


def _clipboard(draw: ImageDraw.ImageDraw, size: int, *, fill: bool) -> None:
    """A clipboard with a cross, scaled to a `size` square; outline-only when not `fill`."""
    s = size / 32
    width = max(1, round(1.5 * s))
    board = (7 * s, 6 * s, 25 * s, 29 * s)
    clip = (12 * s, 3.5 * s, 20 * s, 8.5 * s)
    bar_h = (11.5 * s, 15.5 * s, 20.5 * s, 19.5 * s)
    bar_v = (14 * s, 13 * s, 18 * s, 22 * s)
    if fill:
        draw.rounded_rectangle(board, radius=2.5 * s, fill=WHITE)
        draw.rounded_rectangle(clip, radius=1.5 * s, fill=WHITE, outline=ACCENT, width=width)
        draw.rectangle(bar_h, fill=ACCENT)
        draw.rectangle(bar_v, fill=ACCENT)
    else:
        draw.rounded_rectangle(board, radius=2.5 * s, outline=WHITE, width=width)
        draw.rounded_rectangle(clip, radius=1.5 * s, fill=WHITE)
        draw.rectangle(bar_h, fill=WHITE)
        draw.rectangle(bar_v, fill=WHITE)


def draw(directory: Path = PACKAGE_DIR) -> tuple[Path, Path]:
    scale = 4  # draw large, then shrink: smooth edges
    color = Image.new("RGBA", (192 * scale, 192 * scale), (0, 0, 0, 0))
    canvas = ImageDraw.Draw(color)
    canvas.rounded_rectangle((0, 0, 192 * scale - 1, 192 * scale - 1), radius=36 * scale, fill=ACCENT)
    glyph = Image.new("RGBA", (32 * 4 * scale, 32 * 4 * scale), (0, 0, 0, 0))
    _clipboard(ImageDraw.Draw(glyph), glyph.width, fill=True)
    glyph = glyph.resize((128 * scale, 128 * scale), Image.Resampling.LANCZOS)
    color.alpha_composite(glyph, (32 * scale, 32 * scale))
    color_path = directory / "color.png"
    color.resize((192, 192), Image.Resampling.LANCZOS).save(color_path)

    outline = Image.new("RGBA", (32 * scale, 32 * scale), (0, 0, 0, 0))
    _clipboard(ImageDraw.Draw(outline), outline.width, fill=False)
    small = outline.resize((32, 32), Image.Resampling.LANCZOS)
    # Teams requires pure white on transparent: keep only the alpha of the drawing.
    white = Image.new("L", small.size, 255)
    small = Image.merge("RGBA", (white, white, white, small.getchannel("A")))
    outline_path = directory / "outline.png"
    small.save(outline_path)
    return color_path, outline_path


if __name__ == "__main__":
    for path in draw():
        print(f"wrote {path}")
