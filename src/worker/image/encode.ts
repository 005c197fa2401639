/**
 * FFmpeg arguments that encode RGBA8 frames to JPEG (mjpeg), PNG and WebP (libwebp). Every
 * output of a job is encoded by one FFmpeg run: one rawvideo input per target.
 * `bitexact` keeps the encoder's name and version out of the files (metadata is stripped).
 */
import type { ImageTargetSpec } from '../../model/image-spec.js';

/**
 * libjpeg's quality scales its quantisers by s = 5000/q (q < 50) or 200 − 2q percent; the
 * mjpeg encoder's AC quantisers are about 2 × qscale where libjpeg's low-frequency ones are
 * about 12 × s/100 (measured from both encoders' DQT segments), so qscale ≈ 0.06 s.
 */
export function jpegQscale(quality: number): number {
  const s = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  return Math.min(31, Math.max(1, Math.round(0.06 * s)));
}

export function encodeArgs(t: ImageTargetSpec, opaque: boolean, outPath: string): string[] {
  const common = ['-frames:v', '1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1'];
  switch (t.format) {
    case 'jpeg':
      return [
        ...common,
        '-c:v',
        'mjpeg',
        '-qmin',
        '1',
        '-qmax',
        '31',
        '-q:v',
        String(jpegQscale(t.quality)),
        '-huffman',
        'optimal',
        '-pix_fmt',
        t.chroma === '4:4:4' ? 'yuvj444p' : 'yuvj420p',
        '-f',
        'mjpeg',
        outPath,
      ];
    case 'png':
      return [
        ...common,
        '-c:v',
        'png',
        '-compression_level',
        String(t.compressionLevel),
        '-pred',
        'mixed',
        '-pix_fmt',
        opaque ? 'rgb24' : 'rgba',
        '-f',
        'image2',
        '-update',
        '1',
        outPath,
      ];
    case 'webp':
      // Lossy colour only: the core's libwebp crashes in its lossless encoder, which it also uses
      // for alpha, so lossless files and alpha channels are written in TypeScript
      // (webp-lossless.ts) and libwebp always gets an opaque picture.
      return [
        ...common,
        '-c:v',
        'libwebp',
        '-lossless',
        '0',
        '-quality',
        String(t.quality),
        '-compression_level',
        '4',
        '-pix_fmt',
        'yuv420p',
        '-f',
        'webp',
        outPath,
      ];
  }
}

/** One rawvideo input of `width` × `height` RGBA8. */
export function rawInputArgs(width: number, height: number, inPath: string): string[] {
  return ['-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${width}x${height}`, '-framerate', '1', '-i', inPath];
}
