/** Small parsers for the manifests the packager writes: HLS playlists and DASH MPDs. */

export interface Playlist {
  tags: Map<string, string[]>;
  segments: Array<{ duration: number; uri: string }>;
  /** Master playlists: each EXT-X-STREAM-INF with its URI. */
  variants: Array<{ attrs: Record<string, string>; uri: string }>;
  media: Array<Record<string, string>>;
}

export function attributes(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) out[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  return out;
}

export function parsePlaylist(text: string): Playlist {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines[0] !== '#EXTM3U') throw new Error('not an m3u8');
  const pl: Playlist = { tags: new Map(), segments: [], variants: [], media: [] };
  let extinf: number | undefined;
  let streamInf: Record<string, string> | undefined;
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT')) {
      const [tag, ...rest] = line.split(':');
      const value = rest.join(':');
      pl.tags.set(tag!, [...(pl.tags.get(tag!) ?? []), value]);
      if (tag === '#EXTINF') extinf = Number(value.split(',')[0]);
      if (tag === '#EXT-X-STREAM-INF') streamInf = attributes(value);
      if (tag === '#EXT-X-MEDIA') pl.media.push(attributes(value));
    } else if (!line.startsWith('#')) {
      if (streamInf) pl.variants.push({ attrs: streamInf, uri: line });
      else if (extinf !== undefined) pl.segments.push({ duration: extinf, uri: line });
      streamInf = undefined;
      extinf = undefined;
    }
  }
  return pl;
}

export interface MpdRepresentation {
  id: string;
  contentType: string;
  mimeType: string;
  attrs: Record<string, string>;
  timescale: number;
  /** SegmentTemplate@presentationTimeOffset, 0 when absent. */
  presentationTimeOffset: number;
  initialization: string;
  media: string;
  startNumber: number;
  timeline: Array<{ t: number; d: number }>;
}

export interface Mpd {
  attrs: Record<string, string>;
  representations: MpdRepresentation[];
}

function xmlAttrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:]+)="([^"]*)"/g)) out[m[1]!] = m[2]!.replace(/&amp;/g, '&');
  return out;
}

export function parseMpd(text: string): Mpd {
  const root = xmlAttrs(/<MPD\b[^>]*>/.exec(text)![0]);
  const representations: MpdRepresentation[] = [];
  for (const set of text.matchAll(/<AdaptationSet\b([^>]*)>([\s\S]*?)<\/AdaptationSet>/g)) {
    const setAttrs = xmlAttrs(set[1]!);
    for (const rep of set[2]!.matchAll(/<Representation\b([^>]*)>([\s\S]*?)<\/Representation>/g)) {
      const attrs = xmlAttrs(rep[1]!);
      const tpl = xmlAttrs(/<SegmentTemplate\b[^>]*>/.exec(rep[2]!)![0]);
      const timeline: Array<{ t: number; d: number }> = [];
      let t = 0;
      for (const s of rep[2]!.matchAll(/<S\b([^>]*)\/>/g)) {
        const a = xmlAttrs(s[1]!);
        if (a.t !== undefined) t = Number(a.t);
        for (let r = 0; r <= Number(a.r ?? 0); r++) {
          timeline.push({ t, d: Number(a.d) });
          t += Number(a.d);
        }
      }
      representations.push({
        id: attrs.id!,
        contentType: setAttrs.contentType!,
        mimeType: setAttrs.mimeType!,
        attrs,
        timescale: Number(tpl.timescale),
        presentationTimeOffset: Number(tpl.presentationTimeOffset ?? 0),
        initialization: tpl.initialization!,
        media: tpl.media!,
        startNumber: Number(tpl.startNumber ?? 1),
        timeline,
      });
    }
  }
  return { attrs: root, representations };
}

/** `PT12.345S` (and H/M forms) in seconds. */
export function isoSeconds(value: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(value);
  if (!m) throw new Error(`not an ISO duration: ${value}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
