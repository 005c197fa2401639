/**
 * BS.1770-4 channel weights from FFmpeg's channel layout: 1.0 for front channels, 1.41 for the
 * surrounds (the channels at 60–120° azimuth), 0 for LFE. In a 7.1 bed the side channels are the
 * surrounds and the backs (~135–150°) weigh 1.0; in 5.1 FFmpeg names the surrounds "back" or
 * "side" depending on the layout variant, and both weigh 1.41.
 */

/** FFmpeg's named layouts, as their channels in FFmpeg order. */
const NAMED_LAYOUTS: Readonly<Record<string, readonly string[]>> = {
  mono: ['FC'],
  stereo: ['FL', 'FR'],
  '2.1': ['FL', 'FR', 'LFE'],
  '3.0': ['FL', 'FR', 'FC'],
  '3.0(back)': ['FL', 'FR', 'BC'],
  '4.0': ['FL', 'FR', 'FC', 'BC'],
  quad: ['FL', 'FR', 'BL', 'BR'],
  'quad(side)': ['FL', 'FR', 'SL', 'SR'],
  '3.1': ['FL', 'FR', 'FC', 'LFE'],
  '5.0': ['FL', 'FR', 'FC', 'BL', 'BR'],
  '5.0(side)': ['FL', 'FR', 'FC', 'SL', 'SR'],
  '4.1': ['FL', 'FR', 'FC', 'LFE', 'BC'],
  '5.1': ['FL', 'FR', 'FC', 'LFE', 'BL', 'BR'],
  '5.1(side)': ['FL', 'FR', 'FC', 'LFE', 'SL', 'SR'],
  '6.0': ['FL', 'FR', 'FC', 'BC', 'SL', 'SR'],
  '6.1': ['FL', 'FR', 'FC', 'LFE', 'BC', 'SL', 'SR'],
  '6.1(back)': ['FL', 'FR', 'FC', 'LFE', 'BL', 'BR', 'BC'],
  '7.0': ['FL', 'FR', 'FC', 'BL', 'BR', 'SL', 'SR'],
  '7.1': ['FL', 'FR', 'FC', 'LFE', 'BL', 'BR', 'SL', 'SR'],
  '7.1(wide)': ['FL', 'FR', 'FC', 'LFE', 'BL', 'BR', 'FLC', 'FRC'],
  '7.1(wide-side)': ['FL', 'FR', 'FC', 'LFE', 'FLC', 'FRC', 'SL', 'SR'],
};

const LFE = new Set(['LFE', 'LFE2', 'LOW_FREQUENCY', 'LOW_FREQUENCY_2']);
const SIDES = new Set(['SL', 'SR']);
const BACKS = new Set(['BL', 'BR', 'BC']);
const SURROUND = 1.41;

/** Channel names of a layout string (`5.1(side)`, `FL+FR+LFE`); undefined when unknown. */
export function layoutChannels(layout: string | undefined): readonly string[] | undefined {
  if (!layout) return undefined;
  const named = NAMED_LAYOUTS[layout];
  if (named) return named;
  if (/^[A-Z0-9_]+(\+[A-Z0-9_]+)+$/.test(layout)) return layout.split('+');
  return undefined;
}

/**
 * One weight per channel. Without a known layout: mono and stereo are fronts, 5 and 6 channels
 * are read in FFmpeg's default order (L R C [LFE] Ls Rs), and anything else weighs every channel 1.
 */
export function channelWeights(channels: number, layout: string | undefined): number[] {
  const names = layoutChannels(layout);
  if (names && names.length === channels) {
    const hasSides = names.some((n) => SIDES.has(n));
    return names.map((n) => {
      if (LFE.has(n)) return 0;
      if (SIDES.has(n)) return SURROUND;
      // Backs are the surrounds unless the layout also has sides (7.1: backs sit behind them).
      if (BACKS.has(n)) return hasSides ? 1 : SURROUND;
      return 1;
    });
  }
  if (channels === 5) return [1, 1, 1, SURROUND, SURROUND];
  if (channels === 6) return [1, 1, 1, 0, SURROUND, SURROUND];
  return Array.from({ length: channels }, () => 1);
}
