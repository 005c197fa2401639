/**
 * What `probe` returns, and how it is read from ffprobe's JSON. Numbers arrive as strings in
 * ffprobe's output and are missing or "N/A" when unknown; they become numbers or `undefined`.
 */

export interface StreamInfo {
  index: number;
  type: 'audio' | 'video' | 'subtitle' | 'data' | 'attachment' | 'unknown';
  codec: string;
  codecLongName?: string;
  profile?: string;
  duration?: number;
  bitrate?: number;
  // audio
  sampleRate?: number;
  channels?: number;
  channelLayout?: string;
  sampleFormat?: string;
  bitsPerSample?: number;
  // video and images
  width?: number;
  height?: number;
  frameRate?: number;
  pixelFormat?: string;
  /** True for embedded cover art (an attached picture, not a video track). */
  attachedPicture?: boolean;
  tags: Record<string, string>;
}

export interface ProbeResult {
  /** FFmpeg's demuxer name(s), e.g. `flac`, `mov,mp4,m4a,3gp,3g2,mj2`. */
  format: string;
  formatLongName?: string;
  /** Seconds, or `null` when the container does not say (a still image). */
  duration: number | null;
  /** Overall bit/s, or `null` when unknown. */
  bitrate: number | null;
  size: number;
  tags: Record<string, string>;
  streams: StreamInfo[];
  /** With `probe(input, { decode: true })`: seconds actually decoded from the first audio (or video) stream. */
  decodedDuration?: number;
}

type Raw = Record<string, unknown>;

function num(value: unknown): number | undefined {
  if (value === undefined || value === null || value === 'N/A' || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function rational(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const [a, b] = value.split('/').map(Number);
  if (!a || !b || !Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return Math.round((a / b) * 1000) / 1000;
}

function tags(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Raw)) out[k] = String(v);
  }
  return out;
}

const TYPES = new Set(['audio', 'video', 'subtitle', 'data', 'attachment']);

function stream(raw: Raw): StreamInfo {
  const type = TYPES.has(String(raw.codec_type)) ? (raw.codec_type as StreamInfo['type']) : 'unknown';
  const info: StreamInfo = { index: num(raw.index) ?? 0, type, codec: String(raw.codec_name ?? 'unknown'), tags: tags(raw.tags) };
  const set = <K extends keyof StreamInfo>(key: K, value: StreamInfo[K] | undefined) => {
    if (value !== undefined) info[key] = value;
  };
  set('codecLongName', raw.codec_long_name as string | undefined);
  set('profile', typeof raw.profile === 'string' && raw.profile !== 'unknown' ? raw.profile : undefined);
  set('duration', num(raw.duration));
  set('bitrate', num(raw.bit_rate));
  if (type === 'audio') {
    set('sampleRate', num(raw.sample_rate));
    set('channels', num(raw.channels));
    set('channelLayout', (raw.channel_layout as string | undefined) ?? undefined);
    set('sampleFormat', raw.sample_fmt as string | undefined);
    set('bitsPerSample', num(raw.bits_per_raw_sample) || num(raw.bits_per_sample) || undefined);
  }
  if (type === 'video') {
    set('width', num(raw.width));
    set('height', num(raw.height));
    set('pixelFormat', raw.pix_fmt as string | undefined);
    const disposition = raw.disposition as Raw | undefined;
    const attached = num(disposition?.attached_pic) === 1;
    if (attached) info.attachedPicture = true;
    else set('frameRate', rational(raw.avg_frame_rate) ?? rational(raw.r_frame_rate));
  }
  return info;
}

export function parseProbe(json: unknown): ProbeResult {
  const root = (json ?? {}) as Raw;
  const format = (root.format ?? {}) as Raw;
  const streams = Array.isArray(root.streams) ? (root.streams as Raw[]).map(stream) : [];
  let duration = num(format.duration);
  if (duration === undefined) {
    const known = streams.map((s) => s.duration).filter((d): d is number => d !== undefined);
    duration = known.length ? Math.max(...known) : undefined;
  }
  return {
    format: String(format.format_name ?? 'unknown'),
    ...(format.format_long_name ? { formatLongName: String(format.format_long_name) } : {}),
    duration: duration ?? null,
    bitrate: num(format.bit_rate) ?? null,
    size: num(format.size) ?? 0,
    tags: tags(format.tags),
    streams,
  };
}

/** The first audio stream, which ladders and transcodes take. */
export function primaryAudio(probe: ProbeResult): StreamInfo | undefined {
  return probe.streams.find((s) => s.type === 'audio');
}
