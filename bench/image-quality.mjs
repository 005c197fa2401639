#!/usr/bin/env node
// Resize quality against the references, on the real photos of test/fixtures/photos: sandcodec
// (default shrink-on-load rule, and 'fast') against libvips (sharp, lanczos3, which shrinks on
// load itself) and Pillow (Image.resize LANCZOS on the full decode; needs python3 with PIL, else
// that column is skipped), and the references against each other, at 1024, 640, 300 and 64 px wide.
// Needs the built package. Usage: node bench/image-quality.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createEngine } from '../dist/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const photos = join(here, '..', 'test', 'fixtures', 'photos');
const WIDTHS = [1024, 640, 300, 64];
const dir = mkdtempSync(join(tmpdir(), 'sandcodec-quality-'));
const python = ['/usr/bin/python3', 'python3'].find((p) => {
  try {
    execFileSync(p, ['-c', 'import PIL'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
const rgb = async (input) => {
  const { data, info } = await sharp(input).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};
const psnr = (a, b) => {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i] - b.data[i]) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / a.data.length));
};
const engine = await createEngine({ workers: 1 });
const rows = {
  'sandcodec vs libvips': [],
  'sandcodec vs Pillow': [],
  'sandcodec vs libvips, where libvips and Pillow agree (≥ 40 dB)': [],
  'sandcodec fast vs libvips': [],
  'sandcodec fast vs Pillow': [],
  'libvips vs Pillow': [],
};
try {
  for (const name of readdirSync(photos)
    .filter((f) => f.endsWith('.jpg'))
    .sort()) {
    const file = join(photos, name);
    for (const width of WIDTHS) {
      const ours = await rgb((await engine.resize({ path: file }, { width, format: 'png' })).bytes);
      const fast = await rgb((await engine.resize({ path: file }, { width, format: 'png', shrinkOnLoad: 'fast' })).bytes);
      const vips = await rgb(await sharp(file).resize(ours.width, ours.height, { kernel: 'lanczos3', fit: 'fill' }).png().toBuffer());
      rows['sandcodec vs libvips'].push(psnr(ours, vips));
      rows['sandcodec fast vs libvips'].push(psnr(fast, vips));
      if (python) {
        const out = join(dir, 'pil.png');
        execFileSync(python, [
          '-c',
          `from PIL import Image; Image.open(${JSON.stringify(file)}).convert('RGB').resize((${ours.width}, ${ours.height}), Image.LANCZOS).save(${JSON.stringify(out)})`,
        ]);
        const pil = await rgb(out);
        rows['sandcodec vs Pillow'].push(psnr(ours, pil));
        rows['sandcodec fast vs Pillow'].push(psnr(fast, pil));
        const agree = psnr(vips, pil);
        rows['libvips vs Pillow'].push(agree);
        if (agree >= 40) rows['sandcodec vs libvips, where libvips and Pillow agree (≥ 40 dB)'].push(psnr(ours, vips));
      }
    }
  }
  const stat = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[0].toFixed(1)} | ${s[Math.floor(s.length / 2)].toFixed(1)}`;
  };
  console.log(`${readdirSync(photos).filter((f) => f.endsWith('.jpg')).length} photos × ${WIDTHS.join('/')} px wide, lanczos3; PSNR over RGB, dB\n`);
  console.log('| pair | cases | min | median |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [pair, xs] of Object.entries(rows)) if (xs.length) console.log(`| ${pair} | ${xs.length} | ${stat(xs)} |`);
  if (!python) console.log('\n(Pillow columns skipped: no python3 with PIL)');
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
