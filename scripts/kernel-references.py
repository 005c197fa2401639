#!/usr/bin/env python3
"""Pillow's resizes of the test photos, stored as the references of test/image-kernels.test.ts.

Pillow (libImaging/Resample.c) is the model of sandcodec's kernels: each output pixel is centred
at (i + 0.5) * scale in the source, the filter is stretched by the scale when shrinking, taps
outside the image are dropped and the rest renormalised; nearest samples pixel centres the way
Pillow's affine transform steps through them. Pillow names them NEAREST, BOX, BILINEAR (linear),
BICUBIC (Catmull-Rom, a = -0.5) and LANCZOS (a = 3); it has no Mitchell or Lanczos-2.

Run from the repository root with Debian's python3-pil (Pillow 9.4.0):
    python3 scripts/kernel-references.py
"""
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / 'test' / 'fixtures'
OUT = FIXTURES / 'kernels'
KERNELS = {
    'nearest': Image.NEAREST,
    'box': Image.BOX,
    'linear': Image.BILINEAR,
    'catmull-rom': Image.BICUBIC,
    'lanczos3': Image.LANCZOS,
}
# (source, name, sizes): shrinking by whole and fractional factors, and enlarging a crop.
CASES = [
    ('image/coffee.png', 'coffee', [(250, 167), (97, 65), (64, 43)]),
    ('image/astronaut.png', 'astronaut', [(213, 213), (64, 64)]),
    ('kernels/coffee-crop-120x80.png', 'coffee-crop', [(300, 200)]),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    # The enlargement's source: a 120x80 crop of the photo (its cup's rim), stored beside the references.
    with Image.open(FIXTURES / 'image' / 'coffee.png') as im:
        im.convert('RGB').crop((240, 100, 360, 180)).save(OUT / 'coffee-crop-120x80.png', optimize=True)
    for source, name, sizes in CASES:
        with Image.open(FIXTURES / source) as im:
            rgb = im.convert('RGB')
            for kernel, resample in KERNELS.items():
                for w, h in sizes:
                    rgb.resize((w, h), resample).save(OUT / f'{name}-{kernel}-{w}x{h}.png', optimize=True)


if __name__ == '__main__':
    main()
