// In the page, before any player: one interface over shaka-player, dash.js and hls.js, and a
// record of every SourceBuffer a player creates (its buffered ranges are what a player plays).
(() => {
  const buffers = [];
  const add = MediaSource.prototype.addSourceBuffer;
  MediaSource.prototype.addSourceBuffer = function (type) {
    const sb = add.call(this, type);
    buffers.push({ type, sb });
    return sb;
  };
  /** Buffered ranges of each SourceBuffer still attached, by MIME type. */
  window.sourceBuffers = () =>
    buffers.flatMap(({ type, sb }) => {
      try {
        return [{ type, ranges: Array.from({ length: sb.buffered.length }, (_, i) => [sb.buffered.start(i), sb.buffered.end(i)]) }];
      } catch {
        return [];
      }
    });

  const once = (target, event) => new Promise((resolve) => target.addEventListener(event, resolve, { once: true }));
  const unique = (list) => [...new Map(list.map((x) => [x.id, x])).values()];

  const openers = {
    async shaka(video, url, keys) {
      shaka.polyfill.installAll();
      const p = new shaka.Player();
      await p.attach(video);
      const errors = [];
      p.addEventListener('error', (e) => errors.push(`shaka-player error ${e.detail.code}: ${JSON.stringify(e.detail.data).slice(0, 200)}`));
      p.configure({ abr: { enabled: false }, ...(keys ? { drm: { clearKeys: keys.hex } } : {}) });
      await p.load(url);
      const tracks = () => p.getVariantTracks();
      const active = () => tracks().find((t) => t.active);
      return {
        errors,
        renditions: () => ({
          video: unique(tracks().map((t) => ({ id: t.originalVideoId, height: t.height }))),
          audio: unique(tracks().map((t) => ({ id: t.originalAudioId }))),
        }),
        select(kind, id) {
          const now = active();
          const want = tracks().find((t) =>
            kind === 'video'
              ? t.originalVideoId === id && t.originalAudioId === now.originalAudioId
              : t.originalAudioId === id && t.originalVideoId === now.originalVideoId,
          );
          p.selectVariantTrack(want, true);
        },
        active: () => ({ video: active().originalVideoId, audio: active().originalAudioId }),
        subtitles: () => p.getTextTracks().map((t) => ({ language: t.language, name: t.label })),
        showSubtitles(language) {
          // shaka-player 5 shows the track it is given (null hides).
          p.selectTextTrack(p.getTextTracks().find((t) => t.language === language));
        },
      };
    },

    async dashjs(video, url, keys) {
      const p = dashjs.MediaPlayer().create();
      const errors = [];
      p.updateSettings({ debug: { logLevel: 1 }, streaming: { abr: { autoSwitchBitrate: { video: false, audio: false } }, text: { defaultEnabled: false } } });
      if (keys) p.setProtectionData({ 'org.w3.clearkey': { clearkeys: keys.base64url } });
      p.on(dashjs.MediaPlayer.events.ERROR, (e) => errors.push(`dash.js error: ${JSON.stringify(e.error?.message ?? e.error ?? e).slice(0, 200)}`));
      const ready = new Promise((resolve) => p.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, resolve));
      // Sidecar text tracks reach the video element after the stream is initialized, in the order
      // of this event's list, which is the index setTextTrack takes.
      const textAdded = new Promise((resolve) => p.on(dashjs.MediaPlayer.events.TEXT_TRACKS_ADDED, (e) => resolve(e.tracks)));
      p.initialize(video, url, false);
      await ready;
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('dash.js added no text track to the video element in 20 s')), 20_000);
      });
      const textTracks = p.getTracksFor('text').length > 0 ? await Promise.race([textAdded, late]).finally(() => clearTimeout(timer)) : [];
      clearTimeout(timer);
      return {
        errors,
        renditions: () => ({
          video: p.getRepresentationsByType('video').map((r) => ({ id: r.id, height: r.height })),
          audio: p.getRepresentationsByType('audio').map((r) => ({ id: r.id })),
        }),
        select: (kind, id) => p.setRepresentationForTypeById(kind, id, true),
        active: () => ({ video: p.getCurrentRepresentationForType('video')?.id, audio: p.getCurrentRepresentationForType('audio')?.id }),
        subtitles: () => p.getTracksFor('text').map((t) => ({ language: t.lang, name: t.labels?.[0]?.text })),
        showSubtitles(language) {
          // Text starts off (defaultEnabled: false), so what shows is what this chose. For a sidecar
          // file, setCurrentTrack only records a choice: setTextTrack shows it.
          p.enableText(true);
          p.setTextTrack(textTracks.findIndex((t) => t.lang === language));
        },
      };
    },

    async hlsjs(video, url) {
      const h = new Hls({ startLevel: 0, capLevelToPlayerSize: false });
      const errors = [];
      h.on(Hls.Events.ERROR, (_, d) => {
        if (d.fatal) errors.push(`hls.js fatal ${d.type} ${d.details}`);
      });
      const parsed = once(video, 'loadedmetadata');
      h.loadSource(url);
      h.attachMedia(video);
      await parsed;
      const levelId = (level) => /([^/]+)\/playlist\.m3u8/.exec(level.url ?? level.uri)[1];
      // Each audio rendition is its own group, `audio-<rendition>`.
      const groupRendition = (group) => group?.replace(/^audio-/, '');
      return {
        errors,
        // Each audio rendition is a group of its own (every variant is listed once per group):
        // forcing one is choosing the variant of the current picture in that group.
        renditions: () => ({
          video: unique(h.levels.map((l) => ({ id: levelId(l), height: l.height }))),
          audio: unique(h.allAudioTracks.map((t) => ({ id: groupRendition(t.groupId) }))),
        }),
        select(kind, id) {
          const video = kind === 'video' ? id : levelId(h.levels[h.currentLevel >= 0 ? h.currentLevel : h.loadLevel]);
          const group = kind === 'audio' ? `audio-${id}` : h.audioTracks[h.audioTrack]?.groupId;
          h.currentLevel = h.levels.findIndex((l) => levelId(l) === video && (group === undefined || l.attrs.AUDIO === group));
        },
        active: () => ({
          video: h.currentLevel >= 0 ? levelId(h.levels[h.currentLevel]) : undefined,
          audio: groupRendition(h.audioTracks[h.audioTrack]?.groupId),
        }),
        subtitles: () => h.allSubtitleTracks.map((t) => ({ language: t.lang, name: t.name })),
        showSubtitles(language) {
          h.subtitleDisplay = true;
          h.subtitleTrack = h.subtitleTracks.findIndex((t) => t.lang === language);
        },
      };
    },
  };

  /** Cues of the page's showing text tracks: what a viewer sees, on the media timeline. */
  window.showingCues = () =>
    Array.from(document.getElementById('video').textTracks)
      .filter((t) => t.mode === 'showing' && t.cues)
      .flatMap((t) => Array.from(t.cues).map((c) => ({ language: t.language, start: c.startTime, end: c.endTime, text: c.text })));

  /** Opens `url` in `name`; the player is `window.player`, its errors `window.player.errors`. */
  window.openPlayer = async (name, url, keys) => {
    const video = document.getElementById('video');
    window.player = await openers[name](video, url, keys);
    window.ended = false;
    video.addEventListener('ended', () => {
      window.ended = true;
    });
    video.addEventListener('error', () => window.player.errors.push(`video element error ${video.error?.code}: ${video.error?.message}`));
  };
})();
