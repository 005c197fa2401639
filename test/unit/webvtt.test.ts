/**
 * The WebVTT reader and writers of the packager: real-world syntax reads (BOM, CRLF, identifiers,
 * settings, hour-less times, STYLE, REGION, NOTE), malformed files are refused naming the line,
 * and an HLS segment holds exactly the cues that overlap it, with the timestamp map.
 */
import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseWebVtt, WebVttError, webVttFile, webVttSegment } from '../../src/packaging/webvtt.js';

const FILE = [
  '\uFEFFWEBVTT - a title',
  'Kind: captions',
  '',
  'STYLE',
  '::cue { color: yellow }',
  '',
  'NOTE written by hand',
  'over two lines',
  '',
  'intro',
  '00:00.500 --> 00:01.800',
  'Launch sequence',
  '',
  '00:00:01.900 --> 00:00:03.100 align:start line:0',
  '<v Ground>Across</v> the first boundary',
  'second line',
  '',
  '01:00:06.000 --> 01:00:07.900',
  'An hour in',
  '',
].join('\r\n');

describe('parseWebVtt', () => {
  it('reads cues, identifiers, settings and the blocks before them', () => {
    const vtt = parseWebVtt(FILE, 100);
    expect(vtt.blocks).toEqual(['STYLE\n::cue { color: yellow }']);
    expect(vtt.cues).toEqual([
      { start: 500, end: 1800, id: 'intro', settings: '', text: 'Launch sequence' },
      { start: 1900, end: 3100, id: null, settings: 'align:start line:0', text: '<v Ground>Across</v> the first boundary\nsecond line' },
      { start: 3_606_000, end: 3_607_900, id: null, settings: '', text: 'An hour in' },
    ]);
    // What it writes reads back the same.
    expect(parseWebVtt(webVttFile(vtt), 100)).toEqual(vtt);
    expect(formatTimestamp(3_606_000)).toBe('01:00:06.000');
  });

  it('refuses a malformed file, naming the line', () => {
    const bad = (text: string, message: RegExp) => expect(() => parseWebVtt(text, 100)).toThrow(message);
    expect(() => parseWebVtt('1\n00:00.000 --> 00:01.000\nx\n', 100)).toThrow(WebVttError);
    bad('WEBVTTX\n', /line 1: a WebVTT file starts with "WEBVTT"/);
    bad('WEBVTT\n\n00:00.000 --> 00:61.000\nx\n', /line 3: "00:61.000" is not a WebVTT timestamp/);
    bad('WEBVTT\n\n00:02.000 --> 00:01.000\nx\n', /line 3: the cue ends \(00:01.000\) before it starts/);
    bad('WEBVTT\n\nan id\nno timing here\n', /line 4: expected a cue timing line/);
    bad('WEBVTT\n\n00:00.000 --> 00:01.000\nx\n\nSTYLE\n::cue {}\n', /line 6: a STYLE block after the first cue/);
    bad('WEBVTT\n\n00:00.000 -> 00:01.000\nx\n', /line 4: expected a cue timing line/);
    bad('WEBVTT\n\n00:00.000 --> 00:01.000\nx\n00:01.000 --> 00:02.000\n', /line 5: a cue's text cannot hold "-->"/);
    const many = `WEBVTT\n\n${Array.from({ length: 5 }, (_, i) => `00:0${i}.000 --> 00:0${i}.500\nc${i}`).join('\n\n')}\n`;
    expect(parseWebVtt(many, 5).cues).toHaveLength(5);
    expect(() => parseWebVtt(many, 4)).toThrow(/more than 4 cues/);
  });
});

describe('webVttSegment', () => {
  it('holds the cues that overlap it, whole, after the timestamp map and the style', () => {
    const vtt = parseWebVtt(FILE, 100);
    const first = webVttSegment(vtt, 0, 2000);
    expect(first.startsWith('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\nSTYLE\n')).toBe(true);
    expect(parseWebVtt(first, 100).cues.map((c) => c.start)).toEqual([500, 1900]);
    // A cue across the boundary is in both segments; one ending at a boundary only in the first.
    expect(parseWebVtt(webVttSegment(vtt, 2000, 4000), 100).cues.map((c) => c.start)).toEqual([1900]);
    expect(parseWebVtt(webVttSegment(vtt, 1800, 1900), 100).cues).toEqual([]);
    expect(parseWebVtt(webVttSegment(vtt, 4000, 6000), 100).cues).toEqual([]);
  });
});
