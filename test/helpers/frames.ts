/**
 * Every frame of a video's first picture stream as small grayscale images, decoded by the stock
 * core apart from the engine, for comparing pictures frame by frame.
 */
import { compileCore } from '../../dist/pool/core-module.js';
import { resolveCore } from '../../dist/util/core-files.js';
import { FFmpegCore } from '../../dist/worker/ffmpeg/core.js';

let shared: Promise<FFmpegCore> | undefined;

function core(): Promise<FFmpegCore> {
  shared ??= (async () => {
    const stock = resolveCore('stock');
    return FFmpegCore.create(await compileCore(stock), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 512 * 1024 * 1024,
      core: stock,
    });
  })();
  return shared;
}

/** The frames, scaled to `width` × `height` 8-bit luma, in presentation order. */
export async function decodeGray(bytes: Uint8Array, width: number, height: number): Promise<Uint8Array[]> {
  const c = await core();
  c.FS.writeFile('/frames-in', bytes);
  try {
    await c.exec([
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      '/frames-in',
      '-map',
      '0:v:0',
      '-fps_mode',
      'passthrough',
      '-vf',
      `scale=${width}:${height}`,
      '-pix_fmt',
      'gray',
      '-f',
      'rawvideo',
      '/frames.raw',
    ]);
    const raw = c.FS.readFile('/frames.raw') as Uint8Array;
    c.FS.unlink('/frames.raw');
    const size = width * height;
    return Array.from({ length: Math.floor(raw.length / size) }, (_, i) => raw.slice(i * size, (i + 1) * size));
  } finally {
    c.FS.unlink('/frames-in');
  }
}
