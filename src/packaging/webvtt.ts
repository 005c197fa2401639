/**
 * WebVTT subtitles for packaging: a strict reader of the file a caller gives (the W3C syntax:
 * `WEBVTT` signature, cue timings, STYLE and REGION blocks before the first cue, NOTE comments),
 * and the writers of what players fetch: the whole file for DASH, and one file per segment for
 * HLS, each with the cues that overlap it and an `X-TIMESTAMP-MAP` tying cue time 0 to media time 0.
 * Times are whole milliseconds, as WebVTT writes them.
 */

export interface Cue {
  /** Milliseconds. */
  start: number;
  end: number;
  /** The cue identifier line, if any. */
  id: string | null;
  /** Cue settings after the end time (`line:0 align:start`), as written. */
  settings: string;
  /** Payload lines. */
  text: string;
}

export interface WebVtt {
  /** STYLE and REGION blocks, verbatim: they precede the cues in every file written. */
  blocks: string[];
  cues: Cue[];
}

/** A malformed file: the message names the line. */
export class WebVttError extends Error {}

const TIMESTAMP = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;

function timestamp(text: string, line: number): number {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new WebVttError(`line ${line}: ${JSON.stringify(text.slice(0, 40))} is not a WebVTT timestamp ([hh:]mm:ss.ttt)`);
  const hours = m[1] === undefined ? 0 : Number(m[1]);
  if (!Number.isSafeInteger(hours) || hours > 1_000_000) throw new WebVttError(`line ${line}: the timestamp's hours are out of range`);
  return ((hours * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

/** `hh:mm:ss.ttt`. */
export function formatTimestamp(ms: number): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

const startsBlock = (line: string, word: string) => line === word || line.startsWith(`${word} `) || line.startsWith(`${word}\t`);

/** Parses a WebVTT file; at most `maxCues` cues. Throws `WebVttError` naming the line. */
export function parseWebVtt(source: string, maxCues: number): WebVtt {
  const lines = source.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  if (!startsBlock(lines[0] ?? '', 'WEBVTT')) throw new WebVttError('line 1: a WebVTT file starts with "WEBVTT"');
  const out: WebVtt = { blocks: [], cues: [] };
  let i = 1;
  // The header runs to the first blank line.
  while (i < lines.length && lines[i] !== '') i++;
  while (i < lines.length) {
    while (i < lines.length && lines[i]!.trim() === '') i++;
    if (i >= lines.length) break;
    const first = i;
    const block: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') block.push(lines[i++]!);
    const head = block[0]!;
    if (startsBlock(head, 'NOTE')) continue;
    if (startsBlock(head, 'STYLE') || startsBlock(head, 'REGION')) {
      if (out.cues.length > 0) throw new WebVttError(`line ${first + 1}: a ${head.split(/\s/)[0]} block after the first cue`);
      out.blocks.push(block.join('\n'));
      continue;
    }
    const timingAt = head.includes('-->') ? 0 : 1;
    const timing = block[timingAt];
    if (timing === undefined || !timing.includes('-->')) throw new WebVttError(`line ${first + 1 + timingAt}: expected a cue timing line (start --> end)`);
    const m = /^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(timing.trim());
    if (!m) throw new WebVttError(`line ${first + 1 + timingAt}: a cue timing line is "start --> end [settings]"`);
    const start = timestamp(m[1]!, first + 1 + timingAt);
    const end = timestamp(m[2]!, first + 1 + timingAt);
    if (end <= start) throw new WebVttError(`line ${first + 1 + timingAt}: the cue ends (${m[2]}) before it starts (${m[1]})`);
    const text = block.slice(timingAt + 1);
    const arrow = text.findIndex((l) => l.includes('-->'));
    if (arrow >= 0) throw new WebVttError(`line ${first + 2 + timingAt + arrow}: a cue's text cannot hold "-->" (a blank line must end the cue before)`);
    if (out.cues.length >= maxCues) throw new WebVttError(`more than ${maxCues} cues`);
    out.cues.push({ start, end, id: timingAt === 1 ? head : null, settings: m[3]?.trim() ?? '', text: text.join('\n') });
  }
  return out;
}

function cueText(c: Cue): string {
  const timing = `${formatTimestamp(c.start)} --> ${formatTimestamp(c.end)}${c.settings ? ` ${c.settings}` : ''}`;
  return [...(c.id !== null ? [c.id] : []), timing, ...(c.text ? [c.text] : [])].join('\n');
}

/** The whole file, normalized (the sidecar DASH players fetch). */
export function webVttFile(vtt: WebVtt): string {
  return `${['WEBVTT', ...vtt.blocks, ...vtt.cues.map(cueText)].join('\n\n')}\n`;
}

/**
 * The HLS segment for `[from, to)` ms: every cue that overlaps it (a cue across a boundary is in
 * both, whole, as RFC 8216 3.5 asks). Cue times stay on the programme's timeline; the
 * timestamp map ties the programme's 0 to the media time it is at in every track of the package
 * (`mpegts`, 90 kHz ticks: the programme offset, see packaging/segmenter.ts).
 */
export function webVttSegment(vtt: WebVtt, from: number, to: number, mpegts = 0): string {
  const cues = vtt.cues.filter((c) => c.start < to && c.end > from);
  return `${[`WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${mpegts},LOCAL:00:00:00.000`, ...vtt.blocks, ...cues.map(cueText)].join('\n\n')}\n`;
}
