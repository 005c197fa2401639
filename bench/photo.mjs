// Photo-like inputs for the image benches: a corpus photo resized, with sensor-like noise (a fixed
// xorshift sequence, so every run gets the same bytes) so that JPEG has work to do.
export async function noisyPhoto(sharp, file, width, height, jpeg = { quality: 92 }) {
  const base = await sharp(file).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  let seed = 0x9e3779b9;
  for (let i = 0; i < base.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    base[i] = Math.max(0, Math.min(255, base[i] + ((seed & 15) - 8)));
  }
  return sharp(base, { raw: { width, height, channels: 3 } })
    .jpeg(jpeg)
    .toBuffer();
}
