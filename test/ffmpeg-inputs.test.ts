/**
 * What may open an input: real media containers only. Scripts, text, subtitles and metadata
 * files are refused as E_INPUT_INVALID naming their format (an SBaGen script of a few bytes
 * once became hours of synthesized audio); media formats outside the allow-list are
 * E_UNSUPPORTED; plans' own lavfi sources still work. And valid media FFmpeg decodes natively
 * is not refused: a WAV streamed with its sizes left at 0xFFFFFFFF.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, InputError, SandcodecError, UnsupportedError } from '../dist/index.js';

let engine: Engine;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
});

afterAll(async () => {
  await engine?.close();
});

async function refusal(promise: Promise<unknown>): Promise<SandcodecError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should fail').toBeInstanceOf(SandcodecError);
  return err as SandcodecError;
}

const TEXT_INPUTS: Array<[name: string, text: string, demuxer: string]> = [
  // 34 bytes of SBaGen: a binaural beat FFmpeg would synthesize for hours.
  ['beats.sbg', 'alpha: 200+10/20 300+6/9\nNOW alpha', 'sbg'],
  ['meta.txt', ';FFMETADATA1\ntitle=a song\nartist=someone\n', 'ffmetadata'],
  ['subs.srt', '1\n00:00:01,000 --> 00:00:02,000\nhello\n\n2\n00:00:03,000 --> 00:00:04,000\nworld\n', 'srt'],
  ['subs.vtt', 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n', 'webvtt'],
  ['song.lrc', '[00:01.00]hello\n[00:02.00]world\n', 'lrc'],
  ['notes.ans', 'plain text is not a video, whatever its extension says\n', 'tty'],
];

describe('the demuxer allow-list', () => {
  it('refuses scripts, subtitles, metadata and text as E_INPUT_INVALID naming the format', async () => {
    expect(new TextEncoder().encode(TEXT_INPUTS[0]![1]).byteLength).toBe(34);
    for (const [name, text, demuxer] of TEXT_INPUTS) {
      const data = new TextEncoder().encode(text);
      for (const call of [() => engine.probe({ data, name }), () => engine.transcode({ data, name }, { preset: 'flac' })]) {
        const err = await refusal(call());
        expect(err, name).toBeInstanceOf(InputError);
        expect(err.details.demuxer, name).toBe(demuxer);
        expect(err.message, name).toContain(`the ${demuxer} format`);
        expect(err.message, name).toContain('not accepted as media');
      }
    }
  });

  it('refuses a real media format outside the list as E_UNSUPPORTED: a Creative Voice file', async () => {
    // VOC: 26-byte header, one block of 8-bit unsigned PCM at 8 kHz, terminator.
    const n = 8000;
    const head = Buffer.alloc(26);
    head.write('Creative Voice File\x1a', 0, 'latin1');
    head.writeUInt16LE(26, 20);
    head.writeUInt16LE(0x010a, 22);
    head.writeUInt16LE((~0x010a + 0x1234) & 0xffff, 24);
    const block = Buffer.alloc(6 + n);
    block[0] = 1;
    block.writeUIntLE(n + 2, 1, 3);
    block[4] = 256 - 125;
    for (let i = 0; i < n; i++) block[6 + i] = 128 + Math.round(100 * Math.sin((i * 2 * Math.PI * 440) / 8000));
    const voc = new Uint8Array(Buffer.concat([head, block, Buffer.from([0])]));
    const err = await refusal(engine.probe({ data: voc, name: 'tone.voc' }));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err.details.demuxer).toBe('voc');
    expect(err.message).toMatch(/the voc format \(Creative Voice\), a media format that is not accepted here/);
  });

  it("keeps plans' own lavfi sources working", async () => {
    const out = await engine.generate({ kind: 'sine', seconds: 0.5, preset: 'flac' });
    expect((await engine.probe(out.bytes!, { decode: true })).decodedDuration).toBeCloseTo(0.5, 2);
  });
});

/** A 16-bit stereo WAV of a 440 Hz tone whose RIFF and data sizes say "unknown" (0xFFFFFFFF). */
function streamedWav(seconds: number, sampleRate = 44100, trailing = new Uint8Array(0)): Uint8Array {
  const frames = Math.round(seconds * sampleRate);
  const out = Buffer.alloc(44 + frames * 4);
  out.write('RIFF', 0);
  out.writeUInt32LE(0xffffffff, 4);
  out.write('WAVEfmt ', 8);
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(2, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 4, 28);
  out.writeUInt16LE(4, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36);
  out.writeUInt32LE(0xffffffff, 40);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(0.5 * 32767 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
    out.writeInt16LE(v, 44 + i * 4);
    out.writeInt16LE(v, 46 + i * 4);
  }
  return new Uint8Array(Buffer.concat([out, trailing]));
}

describe('a WAV streamed with its sizes unknown (0xFFFFFFFF)', () => {
  // 2.5 s: the data does not end on a whole packet, so the last packet read comes out short.
  const wav = streamedWav(2.5);

  it('probes and decodes to its full length', async () => {
    const probe = await engine.probe(wav, { decode: true });
    expect(probe.format).toBe('wav');
    expect(probe.decodedDuration).toBeCloseTo(2.5, 3);
  });

  it('transcodes whole, and measures', async () => {
    const flac = await engine.transcode(wav, { preset: 'flac' });
    expect((await engine.probe(flac.bytes!, { decode: true })).decodedDuration).toBeCloseTo(2.5, 3);
    const loudness = await engine.loudness(wav);
    // A stereo sine at -6 dBFS peak: -3 dBFS RMS per channel, +3 dB for two channels, K-weighting ~0 dB at 440 Hz.
    expect(loudness.integrated).toBeGreaterThan(-7);
    expect(loudness.integrated).toBeLessThan(-5);
    expect(loudness.samplePeak).toBeCloseTo(-6.02, 1);
  });

  it('ends wherever the recording stopped, even inside a sample', async () => {
    const cut = streamedWav(2.5, 44100, new Uint8Array([0x12]));
    const flac = await engine.transcode(cut, { preset: 'flac' });
    expect((await engine.probe(flac.bytes!, { decode: true })).decodedDuration).toBeCloseTo(2.5, 3);
  });

  it('while a WAV that states its size and is cut short is still refused', async () => {
    const whole = streamedWav(2.5);
    const view = new DataView(whole.buffer, whole.byteOffset);
    view.setUint32(4, whole.byteLength - 8, true);
    view.setUint32(40, whole.byteLength - 44, true);
    expect((await engine.probe(whole, { decode: true })).decodedDuration).toBeCloseTo(2.5, 3);
    const err = await refusal(engine.transcode(whole.slice(0, whole.byteLength - 1001), { preset: 'flac' }));
    expect(err.code).toBe('E_INPUT_INVALID');
    expect(err.message).toMatch(/truncated/);
  });
});
