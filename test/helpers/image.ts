/**
 * Image comparison for tests and benchmarks: PSNR and SSIM over RGB(A) pixels, premultiplied when
 * alpha matters, and sharp (libvips) as an independent decoder and reference resizer.
 */
import sharp from 'sharp';

export interface Raw {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decodes any image sharp reads to RGBA8 (sRGB), ignoring EXIF orientation. */
export async function sharpRgba(input: Uint8Array | string): Promise<Raw> {
  const { data, info } = await sharp(input).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** RGB premultiplied by alpha, so pixels that are invisible do not count. */
function premultiplied(img: Raw): Float64Array {
  const out = new Float64Array(img.width * img.height * 3);
  for (let i = 0, j = 0; i < img.data.length; i += 4, j += 3) {
    const a = img.data[i + 3]! / 255;
    out[j] = img.data[i]! * a;
    out[j + 1] = img.data[i + 1]! * a;
    out[j + 2] = img.data[i + 2]! * a;
  }
  return out;
}

export function psnr(a: Raw, b: Raw): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  const x = premultiplied(a);
  const y = premultiplied(b);
  let se = 0;
  for (let i = 0; i < x.length; i++) se += (x[i]! - y[i]!) ** 2;
  const mse = se / x.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Mean SSIM of luma over 8×8 windows (stride 4). */
export function ssim(a: Raw, b: Raw): number {
  const luma = (img: Raw) => {
    const p = premultiplied(img);
    const out = new Float64Array(img.width * img.height);
    for (let i = 0; i < out.length; i++) out[i] = 0.299 * p[i * 3]! + 0.587 * p[i * 3 + 1]! + 0.114 * p[i * 3 + 2]!;
    return out;
  };
  const x = luma(a);
  const y = luma(b);
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  let sum = 0;
  let n = 0;
  const W = 8;
  for (let by = 0; by + W <= a.height; by += 4) {
    for (let bx = 0; bx + W <= a.width; bx += 4) {
      let mx = 0,
        my = 0,
        vx = 0,
        vy = 0,
        cxy = 0;
      for (let j = 0; j < W; j++)
        for (let i = 0; i < W; i++) {
          const k = (by + j) * a.width + bx + i;
          mx += x[k]!;
          my += y[k]!;
        }
      mx /= W * W;
      my /= W * W;
      for (let j = 0; j < W; j++)
        for (let i = 0; i < W; i++) {
          const k = (by + j) * a.width + bx + i;
          vx += (x[k]! - mx) ** 2;
          vy += (y[k]! - my) ** 2;
          cxy += (x[k]! - mx) * (y[k]! - my);
        }
      const d = W * W - 1;
      sum += ((2 * mx * my + C1) * (2 * (cxy / d) + C2)) / ((mx * mx + my * my + C1) * (vx / d + vy / d + C2));
      n++;
    }
  }
  return n ? sum / n : 1;
}

/** A smooth, colourful W×H test picture with sharp edges (for JPEG fixtures). */
export function testPattern(width: number, height: number, alpha = false): Raw {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = Math.round(255 * (x / (width - 1)));
      data[i + 1] = Math.round(255 * (y / (height - 1)));
      data[i + 2] = ((x >> 5) + (y >> 5)) & 1 ? 200 : 40;
      data[i + 3] = alpha ? Math.round(255 * Math.min(1, Math.hypot(x - width / 2, y - height / 2) / (width / 3))) : 255;
    }
  }
  return { data, width, height };
}

/** Four solid quadrants (red, green, blue, white): crops and orientations are unambiguous. */
export function quadrants(width: number, height: number): Raw {
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 255],
  ];
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colours[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)]!;
      data.set([c[0]!, c[1]!, c[2]!, 255], (y * width + x) * 4);
    }
  }
  return { data, width, height };
}

export function rawSharp(img: Raw) {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), { raw: { width: img.width, height: img.height, channels: 4 } });
}

/** Pixel (x, y) as [r, g, b, a]. */
export function pixel(img: Raw, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return [...img.data.subarray(i, i + 4)];
}

/** A 24-bit bottom-up BMP (sharp cannot write BMP). */
export function bmp(img: Raw): Uint8Array {
  const stride = Math.ceil((img.width * 3) / 4) * 4;
  const size = 54 + stride * img.height;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  v.setUint32(2, size, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, img.width, true);
  v.setInt32(22, img.height, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  v.setUint32(34, stride * img.height, true);
  for (let y = 0; y < img.height; y++) {
    const row = 54 + (img.height - 1 - y) * stride;
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 4;
      out[row + x * 3] = img.data[s + 2]!;
      out[row + x * 3 + 1] = img.data[s + 1]!;
      out[row + x * 3 + 2] = img.data[s]!;
    }
  }
  return out;
}
