"""Draw the installable app's icons (static/icons/icon-192.png and icon-512.png): the
header's brand mark, a blue "L" on a white rounded square, on the brand blue.

The mark stays inside the central 60% so the same file serves as a "maskable" icon (the
phone may cut it to a circle or a squircle). Shapes, not a font, so the output does not
depend on the fonts installed. Run once after changing the design:
`.venv/bin/python bench/make_pwa_icons.py`; the PNGs are committed."""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
BRAND = (11, 79, 138)  # --brand in static/css/lokus.css
WHITE = (255, 255, 255)
SUPERSAMPLE = 4


def icon(size: int) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGB", (big, big), BRAND)
    draw = ImageDraw.Draw(image)
    square = big * 0.30  # half the side of the white square: 60% of the icon
    centre = big / 2
    draw.rounded_rectangle(
        (centre - square, centre - square, centre + square, centre + square), radius=big * 0.09, fill=WHITE
    )
    stroke = big * 0.085
    left, top, bottom, right = centre - big * 0.13, centre - big * 0.19, centre + big * 0.19, centre + big * 0.15
    draw.rectangle((left, top, left + stroke, bottom), fill=BRAND)
    draw.rectangle((left, bottom - stroke, right, bottom), fill=BRAND)
    small = image.resize((size, size), Image.Resampling.LANCZOS)
    # Two colours and their blends: a small palette keeps the files to a few KB.
    return small.quantize(colors=32, method=Image.Quantize.MEDIANCUT)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        path = OUT / f"icon-{size}.png"
        icon(size).save(path, format="PNG", optimize=True)
        print(f"{path.relative_to(OUT.parent.parent)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
