/**
 * Minimal WAV writer and reader for tests: 8-bit (unsigned), 16-bit, 24-bit and 32-bit float PCM,
 * interleaved.
 * Writing streams chunk by chunk so hours of audio never sit in memory; the reader parses the
 * WAVs the engine writes (PCM s16/s24 and float, with or without extensible headers).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type WavFormat = 'u8' | 's16' | 's24' | 'f32';

const BYTES: Record<WavFormat, number> = { u8: 1, s16: 2, s24: 3, f32: 4 };

function header(format: WavFormat, sampleRate: number, channels: number, frames: number): Buffer {
  const bps = BYTES[format];
  const dataBytes = frames * channels * bps;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format === 'f32' ? 3 : 1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * bps, 28);
  h.writeUInt16LE(channels * bps, 32);
  h.writeUInt16LE(bps * 8, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

function encode(samples: Float32Array, format: WavFormat): Buffer {
  // Typed-array fast paths (little-endian hosts): hours of audio are written in seconds.
  if (format === 'f32') return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  if (format === 'u8') {
    // 8-bit WAV is unsigned, centred on 128.
    const pcm = new Uint8Array(samples.length);
    for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(0, Math.min(255, Math.round(samples[i]! * 128) + 128));
    return Buffer.from(pcm.buffer);
  }
  if (format === 's16') {
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768)));
    return Buffer.from(pcm.buffer);
  }
  const out = Buffer.alloc(samples.length * BYTES[format]);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]!));
    out.writeIntLE(Math.max(-8388608, Math.min(8388607, Math.round(x * 8388608))), i * 3, 3);
  }
  return out;
}

/**
 * Writes `frames` frames; `fill(buffer, firstFrame, frames)` fills each interleaved chunk.
 */
export function writeWav(
  path: string,
  o: { format: WavFormat; sampleRate: number; channels: number; frames: number },
  fill: (chunk: Float32Array, firstFrame: number, frames: number) => void,
): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header(o.format, o.sampleRate, o.channels, o.frames));
    const chunkFrames = 1 << 16;
    const chunk = new Float32Array(chunkFrames * o.channels);
    for (let at = 0; at < o.frames; at += chunkFrames) {
      const n = Math.min(chunkFrames, o.frames - at);
      const view = chunk.subarray(0, n * o.channels);
      view.fill(0);
      fill(view, at, n);
      writeSync(fd, encode(view, o.format));
    }
  } finally {
    closeSync(fd);
  }
}

/** A sine per channel (amplitudes as linear peak values; 0 = silent channel). */
export function sineFill(sampleRate: number, frequency: number, amplitudes: readonly number[]) {
  const ch = amplitudes.length;
  // A whole number of samples per cycle repeats exactly: look the sine up instead of computing it.
  const period = sampleRate % frequency === 0 ? sampleRate / frequency : 0;
  const table = Float64Array.from({ length: period }, (_, i) => Math.sin((2 * Math.PI * i) / period));
  if (period) {
    return (chunk: Float32Array, first: number, frames: number) => {
      for (let f = 0; f < frames; f++) {
        const v = table[(first + f) % period]!;
        for (let c = 0; c < ch; c++) chunk[f * ch + c] = amplitudes[c]! * v;
      }
    };
  }
  return (chunk: Float32Array, first: number, frames: number) => {
    for (let f = 0; f < frames; f++) {
      const v = Math.sin((2 * Math.PI * frequency * (first + f)) / sampleRate);
      for (let c = 0; c < ch; c++) chunk[f * ch + c] = amplitudes[c]! * v;
    }
  };
}

export const dbfs = (db: number) => 10 ** (db / 20);

export interface DecodedWav {
  sampleRate: number;
  channels: number;
  samples: Float32Array;
}

/** Reads PCM (8/16/24/32-bit integer) or float WAV into interleaved f32. */
export function readWav(bytes: Uint8Array): DecodedWav {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV');
  let at = 12;
  let fmt: { tag: number; channels: number; rate: number; bits: number } | undefined;
  while (at + 8 <= b.length) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      let tag = b.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the sub-format GUID.
      if (tag === 0xfffe) tag = b.readUInt16LE(body + 24);
      fmt = { tag, channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data before fmt');
      const bytesPer = fmt.bits / 8;
      const end = Math.min(b.length, body + size);
      const n = Math.floor((end - body) / bytesPer);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const p = body + i * bytesPer;
        if (fmt.tag === 3) samples[i] = fmt.bits === 64 ? b.readDoubleLE(p) : b.readFloatLE(p);
        else if (fmt.bits === 16) samples[i] = b.readInt16LE(p) / 32768;
        else if (fmt.bits === 24) samples[i] = b.readIntLE(p, 3) / 8388608;
        else if (fmt.bits === 32) samples[i] = b.readInt32LE(p) / 2147483648;
        else samples[i] = (b[p]! - 128) / 128;
      }
      return { sampleRate: fmt.rate, channels: fmt.channels, samples };
    }
    at = body + size + (size & 1);
  }
  throw new Error('WAV without data');
}
