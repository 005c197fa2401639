// ITU-R BS.1770-4 / EBU R 128 loudness meter kernel (Tech 3341 "EBU mode", Tech 3342 LRA).
//
// One source, two builds: `ASC_FEATURE_SIMD` picks the v128 paths at compile time. Both paths do
// the same IEEE operations in the same order, so the SIMD and scalar builds agree bit for bit.
//
// Protocol: init(sampleRate, channels) → setWeight(c, w) per channel → repeatedly write up to
// capacity() interleaved f32 frames at inputPtr() and call push(frames) → finish() → getters.
// Everything is laid out once in init; push/finish never allocate, and memory is bounded: gating
// and LRA use fixed histograms instead of lists of blocks, so hours of input cost no memory.

const MAX_CHANNELS: i32 = 8;
// Frames per push. Large enough that the JS→wasm call and the per-chunk bookkeeping vanish.
const CAPACITY: i32 = 4096;
// Histograms of block loudness: 0.005 LU bins over (-70, +30] LUFS; louder blocks land in the top
// bin. Each bin keeps the block count and the exact energy sum, so means stay exact and only the
// threshold bin (for gating) or the percentile bin (for LRA) is resolved to within 0.005 LU.
const BINS_PER_LU: f64 = 200.0;
const HIST_FLOOR: f64 = -70.0;
const HIST_BINS: i32 = 20000;
const TP_TAPS: i32 = 12;
// Filter state below this magnitude is flushed to zero: a K-filter ringing out in silence would
// otherwise sink into subnormals, which x86 handles ~100× slower.
const DENORMAL_FLOOR: f64 = 1e-30;

// BS.1770-4 Annex 2, 48-tap 4-phase interpolator; phase p, tap k multiplies x[n-k].
const TP_PHASES = memory.data<f32>([
  0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625,
  0.97216796875, -0.102294921875, 0.047607421875, -0.026611328125, 0.014892578125, -0.00830078125,
  -0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.16650390625, 0.465087890625,
  0.77978515625, -0.2003173828125, 0.1015625, -0.0582275390625, 0.0330810546875, -0.0189208984375,
  -0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625, -0.2003173828125, 0.77978515625,
  0.465087890625, -0.16650390625, 0.089111328125, -0.0517578125, 0.029296875, -0.0291748046875,
  -0.00830078125, 0.014892578125, -0.026611328125, 0.047607421875, -0.102294921875, 0.97216796875,
  0.1373291015625, -0.0594482421875, 0.033203125, -0.0196533203125, 0.010986328125, 0.001708984375,
]);

let ready = false;
let finished = false;
let nch: i32 = 0;
let npairs: i32 = 0;

// Timing, in frames and 5 ms-or-finer sub-blocks (see init).
let hop: i32 = 0;
let sub: i32 = 0;
let subsPerHop: i32 = 0;
let mLen: i32 = 0; // sub-blocks per 400 ms window
let sLen: i32 = 0; // sub-blocks per 3 s window (also the ring length)
let subFill: i32 = 0;
let nSub: i64 = 0;
let frames: f64 = 0;

// K-weighting: stage 1 (high shelf) b0 b1 b2 a1 a2, stage 2 (RLB high-pass) c0 c1 c2 d1 d2.
let b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, a1: f64 = 0, a2: f64 = 0;
let c0: f64 = 0, c1: f64 = 0, c2: f64 = 0, d1: f64 = 0, d2: f64 = 0;

// Linear-memory layout, fixed in init.
let inPtr: usize = 0; // interleaved f32 input, CAPACITY frames
let tpPtr: usize = 0; // per channel: TP_TAPS history + CAPACITY deinterleaved f32
let tpCoef: usize = 0; // 24 splatted v128: E0 E1 F0 F1 per k = 0..5 (see fir)
let statePtr: usize = 0; // per channel pair: x1 x2 y1 y2 z1 z2 as f64x2 (lane = channel & 1)
let accPtr: usize = 0; // per channel f64 sum of squares in the open sub-block
let weightPtr: usize = 0; // per channel f64
let ringPtr: usize = 0; // sLen f64 sub-block energies
let histIPtr: usize = 0; // gating histogram: HIST_BINS counts then HIST_BINS energy sums
let histSPtr: usize = 0; // LRA histogram (short-term values), same shape

let mSum: f64 = 0; // running sums over the ring, re-summed exactly at every hop
let sSum: f64 = 0;
let mMax: f64 = -1; // energies; -1 = no complete window yet
let sMax: f64 = -1;
let mInterval: f64 = -1;
let sInterval: f64 = -1;
let samplePk: f32 = 0;
let truePk: f32 = 0;
let tpGain: f32 = 0; // bound on |interpolated| / max|input|

// max for values known not to be NaN: a compare and select, where wasm's f32.max is several x86
// instructions (it must propagate NaN and order -0 < +0).
// @ts-ignore: decorator
@inline
function fmax(a: f32, b: f32): f32 {
  return a > b ? a : b;
}

function align16(p: usize): usize {
  return (p + 15) & ~(<usize>15);
}

function toLufs(e: f64): f64 {
  return -0.691 + 10.0 * Math.log10(e);
}

// K-weighting from its analog prototype via the bilinear transform (the derivation libebur128
// uses), so every sample rate gets the filter BS.1770-4 tabulates for 48 kHz.
function deriveFilters(fs: f64): void {
  let f0 = 1681.974450955533;
  const g = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan(Math.PI * f0 / fs);
  const vh = Math.pow(10.0, g / 20.0);
  const vb = Math.pow(vh, 0.4996667741545416);
  let a0 = 1.0 + k / q + k * k;
  b0 = (vh + vb * k / q + k * k) / a0;
  b1 = 2.0 * (k * k - vh) / a0;
  b2 = (vh - vb * k / q + k * k) / a0;
  a1 = 2.0 * (k * k - 1.0) / a0;
  a2 = (1.0 - k / q + k * k) / a0;

  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan(Math.PI * f0 / fs);
  a0 = 1.0 + k / q + k * k;
  c0 = 1.0;
  c1 = -2.0;
  c2 = 1.0;
  d1 = 2.0 * (k * k - 1.0) / a0;
  d2 = (1.0 - k / q + k * k) / a0;
}

/** Returns 0, or 1 bad rate, 2 bad channel count, 3 out of memory, 4 already initialised. */
export function init(sampleRate: i32, channels: i32): i32 {
  if (ready) return 4;
  if (sampleRate < 8000 || sampleRate > 384000) return 1;
  if (channels < 1 || channels > MAX_CHANNELS) return 2;
  nch = channels;
  npairs = (channels + 1) >> 1;
  deriveFilters(<f64>sampleRate);

  // 100 ms hop rounded like libebur128; sub-blocks are the largest divisor of the hop that is at
  // most 5 ms, so 400 ms / 3 s windows can be evaluated between hops (Tech 3341 cases 13/14 need
  // better than 10 Hz) while gating blocks still start exactly on hop boundaries.
  hop = (sampleRate + 5) / 10;
  let d = hop / 20;
  while (hop % d != 0) d--;
  if (d * 4 < hop / 20) {
    // A hop with no usable divisor (11025 Hz: 1103 frames, a prime) would mean one-frame
    // sub-blocks; move the hop to the nearest multiple of 20 frames instead (≤ 10 frames off).
    d = (sampleRate + 100) / 200;
    hop = 20 * d;
  }
  sub = d;
  subsPerHop = hop / sub;
  mLen = 4 * subsPerHop;
  sLen = 30 * subsPerHop;


  let p = align16(__heap_base);
  inPtr = p;
  p = align16(p + <usize>(CAPACITY * channels * 4 + 16));
  tpPtr = p;
  p = align16(p + <usize>(channels * (TP_TAPS + CAPACITY) * 4));
  tpCoef = p;
  p += <usize>(24 * 16);
  statePtr = p;
  p += <usize>(npairs * 96);
  accPtr = p;
  p += <usize>(npairs * 16);
  weightPtr = p;
  p += <usize>(npairs * 16);
  ringPtr = p;
  p = align16(p + <usize>(sLen * 8));
  histIPtr = p;
  p += <usize>(HIST_BINS * 16);
  histSPtr = p;
  p += <usize>(HIST_BINS * 16);

  const needPages = <i32>((p + 0xffff) >> 16);
  const havePages = memory.size();
  if (needPages > havePages && memory.grow(needPages - havePages) < 0) return 3;
  memory.fill(align16(__heap_base), 0, p - align16(__heap_base));

  // The 48-tap prototype is symmetric, so phase 3 is phase 0 reversed and phase 2 is phase 1
  // reversed. fir() exploits that: for k = 0..5 it needs the half sums E_p[k] and half
  // differences F_p[k] of h_p[k] and h_p[11-k], p = 0, 1.
  let bound: f32 = 0;
  for (let ph = 0; ph < 4; ph++) {
    let sum: f32 = 0;
    for (let k = 0; k < TP_TAPS; k++) sum += Mathf.abs(load<f32>(TP_PHASES + <usize>((ph * TP_TAPS + k) * 4)));
    if (sum > bound) bound = sum;
  }
  for (let k = 0; k < 6; k++) {
    for (let ph = 0; ph < 2; ph++) {
      const h = load<f32>(TP_PHASES + <usize>((ph * TP_TAPS + k) * 4));
      const hr = load<f32>(TP_PHASES + <usize>((ph * TP_TAPS + TP_TAPS - 1 - k) * 4));
      for (let lane = 0; lane < 4; lane++) {
        store<f32>(tpCoef + <usize>((k * 4 + ph) * 16 + lane * 4), (h + hr) * 0.5);
        store<f32>(tpCoef + <usize>((k * 4 + 2 + ph) * 16 + lane * 4), (h - hr) * 0.5);
      }
    }
  }
  tpGain = bound * 1.001;

  for (let c = 0; c < channels; c++) store<f64>(weightPtr + <usize>(c * 8), 1.0);
  ready = true;
  return 0;
}

export function setWeight(channel: i32, weight: f64): void {
  if (channel >= 0 && channel < nch) store<f64>(weightPtr + <usize>(channel * 8), weight);
}

export function inputPtr(): usize {
  return inPtr;
}

export function capacity(): i32 {
  return CAPACITY;
}

export function hopFrames(): i32 {
  return hop;
}

export function subBlockFrames(): i32 {
  return sub;
}

/** K-weighting coefficient i: 0..4 shelf b0 b1 b2 a1 a2, 5..9 high-pass b0 b1 b2 a1 a2. */
export function coefficient(i: i32): f64 {
  switch (i) {
    case 0: return b0;
    case 1: return b1;
    case 2: return b2;
    case 3: return a1;
    case 4: return a2;
    case 5: return c0;
    case 6: return c1;
    case 7: return c2;
    case 8: return d1;
    case 9: return d2;
    default: return NaN;
  }
}

export function push(n: i32): void {
  if (!ready || finished || n <= 0) return;
  if (n > CAPACITY) n = CAPACITY;
  frames += <f64>n;
  peaks(n);
  let off = 0;
  while (off < n) {
    let len = sub - subFill;
    if (len > n - off) len = n - off;
    filterSegment(off, len);
    off += len;
    subFill += len;
    if (subFill == sub) {
      closeSubBlock();
      subFill = 0;
    }
  }
}

export function finish(): void {
  if (!ready || finished) return;
  // Let the interpolator ring out past the last sample, as a DAC fed trailing silence would.
  for (let c = 0; c < nch; c++) {
    memory.fill(channelScratch(c) + <usize>(TP_TAPS * 4), 0, <usize>((TP_TAPS - 1) * 4));
  }
  truePeakAll(TP_TAPS - 1, maxHistory());
  finished = true;
}

// ---------------------------------------------------------------------------------------------
// Peaks

function channelScratch(c: i32): usize {
  return tpPtr + <usize>(c * (TP_TAPS + CAPACITY) * 4);
}

function maxHistory(): f32 {
  let m: f32 = 0;
  for (let c = 0; c < nch; c++) {
    const h = channelScratch(c);
    for (let j = 0; j < TP_TAPS; j++) m = max(m, Mathf.abs(load<f32>(h + <usize>(j * 4))));
  }
  return m;
}

function peaks(n: i32): void {
  const m = absMax(inPtr, n * nch);
  if (m > samplePk) samplePk = m;

  deinterleave(n);
  truePeakAll(n, max(m, maxHistory()));
}

function deinterleave(n: i32): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    if (nch == 2) {
      // Four stereo frames per step: one shuffle per channel instead of eight scalar moves.
      let src = inPtr;
      let l = channelScratch(0) + <usize>(TP_TAPS * 4);
      let r = channelScratch(1) + <usize>(TP_TAPS * 4);
      const end = src + <usize>((n & ~3) * 8);
      for (; src < end; src += 32) {
        const a = v128.load(src, 0);
        const b = v128.load(src, 16);
        v128.store(l, v128.shuffle<f32>(a, b, 0, 2, 4, 6));
        v128.store(r, v128.shuffle<f32>(a, b, 1, 3, 5, 7));
        l += 16;
        r += 16;
      }
      for (let k = n & ~3; k < n; k++) {
        store<f32>(l, load<f32>(src, 0));
        store<f32>(r, load<f32>(src, 4));
        src += 8;
        l += 4;
        r += 4;
      }
      c = 2;
    }
  }
  const stride = <usize>(nch * 4);
  for (; c < nch; c++) {
    let src = inPtr + <usize>(c * 4);
    let dst = channelScratch(c) + <usize>(TP_TAPS * 4);
    for (let k = 0; k < n; k++) {
      store<f32>(dst, load<f32>(src));
      src += stride;
      dst += 4;
    }
  }
}

// Largest |x| over `count` samples from `p`.
function absMax(p: usize, count: i32): f32 {
  let m: f32 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(0);
    for (; i + 4 <= count; i += 4) v = f32x4.pmax(v, f32x4.abs(v128.load(p + <usize>(i << 2))));
    m = max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
  }
  for (; i < count; i++) m = fmax(m, Mathf.abs(load<f32>(p + <usize>(i << 2))));
  return m;
}

// Outputs per skip decision: small enough to skip around loud transients, large enough that the
// extra max scan (~1/70 of the filter's work) stays negligible.
const TP_BLOCK: i32 = 256;

// Runs the interpolator over the n new samples of every channel, then keeps the last TP_TAPS
// samples as history. A block is skipped when even the filter's worst-case gain applied to the
// largest input it reads cannot beat the peak so far: exact, and it makes all but the loudest
// moments of real programme nearly free.
function truePeakAll(n: i32, inputMax: f32): void {
  if (inputMax * tpGain > truePk) {
    for (let c = 0; c < nch; c++) {
      const base = channelScratch(c);
      for (let i = 0; i < n; i += TP_BLOCK) {
        const len = min(TP_BLOCK, n - i);
        const q = base + <usize>(i * 4);
        // Outputs i … i+len-1 read samples i+1 … i+len+11 of the scratch.
        if (absMax(q + 4, len + TP_TAPS - 1) * tpGain > truePk) {
          const pk = fir(q, len);
          if (pk > truePk) truePk = pk;
        }
      }
    }
  }
  for (let c = 0; c < nch; c++) {
    const h = channelScratch(c);
    memory.copy(h, h + <usize>(n * 4), <usize>(TP_TAPS * 4));
  }
}

// One output sample's four phases. q points at x[i-11]; u = x[i-k], w = x[i-11+k]. With
// S_p = Σ E_p[k](u+w) and D_p = Σ F_p[k](u-w): phase p = S_p + D_p, phase 3-p = S_p - D_p.
// The SIMD loop does exactly these operations per lane, so both builds agree bit for bit.
// @ts-ignore: decorator
@inline
function firOne(q: usize): f32 {
  const e = tpCoef;
  let u = load<f32>(q, 44), w = load<f32>(q, 0);
  let a = u + w, b = u - w;
  let s0 = load<f32>(e, 0) * a, s1 = load<f32>(e, 16) * a;
  let d0 = load<f32>(e, 32) * b, d1 = load<f32>(e, 48) * b;
  u = load<f32>(q, 40);
  w = load<f32>(q, 4);
  a = u + w;
  b = u - w;
  s0 += load<f32>(e, 64) * a;
  s1 += load<f32>(e, 80) * a;
  d0 += load<f32>(e, 96) * b;
  d1 += load<f32>(e, 112) * b;
  u = load<f32>(q, 36);
  w = load<f32>(q, 8);
  a = u + w;
  b = u - w;
  s0 += load<f32>(e, 128) * a;
  s1 += load<f32>(e, 144) * a;
  d0 += load<f32>(e, 160) * b;
  d1 += load<f32>(e, 176) * b;
  u = load<f32>(q, 32);
  w = load<f32>(q, 12);
  a = u + w;
  b = u - w;
  s0 += load<f32>(e, 192) * a;
  s1 += load<f32>(e, 208) * a;
  d0 += load<f32>(e, 224) * b;
  d1 += load<f32>(e, 240) * b;
  u = load<f32>(q, 28);
  w = load<f32>(q, 16);
  a = u + w;
  b = u - w;
  s0 += load<f32>(e, 256) * a;
  s1 += load<f32>(e, 272) * a;
  d0 += load<f32>(e, 288) * b;
  d1 += load<f32>(e, 304) * b;
  u = load<f32>(q, 24);
  w = load<f32>(q, 20);
  a = u + w;
  b = u - w;
  s0 += load<f32>(e, 320) * a;
  s1 += load<f32>(e, 336) * a;
  d0 += load<f32>(e, 352) * b;
  d1 += load<f32>(e, 368) * b;
  return fmax(fmax(Mathf.abs(s0 + d0), Mathf.abs(s0 - d0)), fmax(Mathf.abs(s1 + d1), Mathf.abs(s1 - d1)));
}

// Largest |interpolated| over output samples 0..n-1 of a channel scratch (history + new).
function fir(base: usize, n: i32): f32 {
  let pk: f32 = 0;
  let q = base + 4;
  const end = q + <usize>(n * 4);
  if (ASC_FEATURE_SIMD) {
    // Lanes are four consecutive output samples; plain loads, no broadcasts. pmax, not max: the
    // inputs are |values|, and wasm's NaN-propagating max costs several x86 instructions.
    const e = tpCoef;
    let vpk = f32x4.splat(0);
    for (; q + 16 <= end; q += 16) {
      // Unrolled by hand (Binaryen does not unroll), so every load has a constant offset.
      let u = v128.load(q, 44), w = v128.load(q, 0);
      let a = f32x4.add(u, w), b = f32x4.sub(u, w);
      let s0 = f32x4.mul(v128.load(e, 0), a), s1 = f32x4.mul(v128.load(e, 16), a);
      let d0 = f32x4.mul(v128.load(e, 32), b), d1 = f32x4.mul(v128.load(e, 48), b);
      u = v128.load(q, 40);
      w = v128.load(q, 4);
      a = f32x4.add(u, w);
      b = f32x4.sub(u, w);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(e, 64), a));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(e, 80), a));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(e, 96), b));
      d1 = f32x4.add(d1, f32x4.mul(v128.load(e, 112), b));
      u = v128.load(q, 36);
      w = v128.load(q, 8);
      a = f32x4.add(u, w);
      b = f32x4.sub(u, w);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(e, 128), a));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(e, 144), a));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(e, 160), b));
      d1 = f32x4.add(d1, f32x4.mul(v128.load(e, 176), b));
      u = v128.load(q, 32);
      w = v128.load(q, 12);
      a = f32x4.add(u, w);
      b = f32x4.sub(u, w);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(e, 192), a));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(e, 208), a));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(e, 224), b));
      d1 = f32x4.add(d1, f32x4.mul(v128.load(e, 240), b));
      u = v128.load(q, 28);
      w = v128.load(q, 16);
      a = f32x4.add(u, w);
      b = f32x4.sub(u, w);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(e, 256), a));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(e, 272), a));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(e, 288), b));
      d1 = f32x4.add(d1, f32x4.mul(v128.load(e, 304), b));
      u = v128.load(q, 24);
      w = v128.load(q, 20);
      a = f32x4.add(u, w);
      b = f32x4.sub(u, w);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(e, 320), a));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(e, 336), a));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(e, 352), b));
      d1 = f32x4.add(d1, f32x4.mul(v128.load(e, 368), b));
      const m0 = f32x4.pmax(f32x4.abs(f32x4.add(s0, d0)), f32x4.abs(f32x4.sub(s0, d0)));
      const m1 = f32x4.pmax(f32x4.abs(f32x4.add(s1, d1)), f32x4.abs(f32x4.sub(s1, d1)));
      vpk = f32x4.pmax(vpk, f32x4.pmax(m0, m1));
    }
    pk = max(max(f32x4.extract_lane(vpk, 0), f32x4.extract_lane(vpk, 1)), max(f32x4.extract_lane(vpk, 2), f32x4.extract_lane(vpk, 3)));
  }
  for (; q < end; q += 4) pk = fmax(pk, firOne(q));
  return pk;
}

// ---------------------------------------------------------------------------------------------
// K-weighting and mean square. f64, because the 38 Hz high-pass has poles too close to 1 for f32
// at high sample rates. Direct form I: the feedback path is one multiply and one subtract per
// sample (the feed-forward sums are off the critical path), half the latency chain of TDF-II.

function filterSegment(off: i32, n: i32): void {
  const stride = <usize>(nch * 4);
  if (ASC_FEATURE_SIMD) {
    const vb0 = f64x2.splat(b0), vb1 = f64x2.splat(b1), vb2 = f64x2.splat(b2);
    const va1 = f64x2.splat(a1), va2 = f64x2.splat(a2);
    const vc0 = f64x2.splat(c0), vc1 = f64x2.splat(c1), vc2 = f64x2.splat(c2);
    const vd1 = f64x2.splat(d1), vd2 = f64x2.splat(d2);
    const floor = f64x2.splat(DENORMAL_FLOOR);
    for (let pr = 0; pr < npairs; pr++) {
      const st = statePtr + <usize>(pr * 96);
      let x1 = v128.load(st, 0), x2 = v128.load(st, 16), y1 = v128.load(st, 32);
      let y2 = v128.load(st, 48), z1 = v128.load(st, 64), z2 = v128.load(st, 80);
      let acc = v128.load(accPtr + <usize>(pr * 16));
      // Odd channel counts read the next frame's first sample into the spare lane; that lane is
      // never read back. The input buffer is padded so the last frame stays in bounds.
      let p = inPtr + <usize>((off * nch + 2 * pr) * 4);
      for (let i = 0; i < n; i++) {
        const x = f64x2.promote_low_f32x4(v128.load64_zero(p));
        p += stride;
        const y = f64x2.sub(f64x2.sub(f64x2.add(f64x2.add(f64x2.mul(vb0, x), f64x2.mul(vb1, x1)), f64x2.mul(vb2, x2)), f64x2.mul(va2, y2)), f64x2.mul(va1, y1));
        const z = f64x2.sub(f64x2.sub(f64x2.add(f64x2.add(f64x2.mul(vc0, y), f64x2.mul(vc1, y1)), f64x2.mul(vc2, y2)), f64x2.mul(vd2, z2)), f64x2.mul(vd1, z1));
        x2 = x1;
        x1 = x;
        y2 = y1;
        y1 = y;
        z2 = z1;
        z1 = z;
        acc = f64x2.add(acc, f64x2.mul(z, z));
      }
      v128.store(st, x1, 0);
      v128.store(st, x2, 16);
      v128.store(st, v128.andnot(y1, f64x2.lt(f64x2.abs(y1), floor)), 32);
      v128.store(st, v128.andnot(y2, f64x2.lt(f64x2.abs(y2), floor)), 48);
      v128.store(st, v128.andnot(z1, f64x2.lt(f64x2.abs(z1), floor)), 64);
      v128.store(st, v128.andnot(z2, f64x2.lt(f64x2.abs(z2), floor)), 80);
      v128.store(accPtr + <usize>(pr * 16), acc);
    }
  } else {
    for (let c = 0; c < nch; c++) {
      if (load<f64>(weightPtr + <usize>(c * 8)) == 0) continue;
      const st = statePtr + <usize>((c >> 1) * 96 + (c & 1) * 8);
      let x1 = load<f64>(st, 0), x2 = load<f64>(st, 16), y1 = load<f64>(st, 32);
      let y2 = load<f64>(st, 48), z1 = load<f64>(st, 64), z2 = load<f64>(st, 80);
      const ap = accPtr + <usize>(c * 8);
      let acc = load<f64>(ap);
      let p = inPtr + <usize>((off * nch + c) * 4);
      for (let i = 0; i < n; i++) {
        const x = <f64>load<f32>(p);
        p += stride;
        const y = b0 * x + b1 * x1 + b2 * x2 - a2 * y2 - a1 * y1;
        const z = c0 * y + c1 * y1 + c2 * y2 - d2 * z2 - d1 * z1;
        x2 = x1;
        x1 = x;
        y2 = y1;
        y1 = y;
        z2 = z1;
        z1 = z;
        acc += z * z;
      }
      store<f64>(st, x1, 0);
      store<f64>(st, x2, 16);
      store<f64>(st, Math.abs(y1) < DENORMAL_FLOOR ? 0 : y1, 32);
      store<f64>(st, Math.abs(y2) < DENORMAL_FLOOR ? 0 : y2, 48);
      store<f64>(st, Math.abs(z1) < DENORMAL_FLOOR ? 0 : z1, 64);
      store<f64>(st, Math.abs(z2) < DENORMAL_FLOOR ? 0 : z2, 80);
      store<f64>(ap, acc);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sliding windows, gating blocks and short-term values

function ringAt(index: i64): f64 {
  return load<f64>(ringPtr + <usize>((index % <i64>sLen) * 8));
}

function windowSum(len: i32): f64 {
  const have: i64 = nSub < <i64>len ? nSub : <i64>len;
  let s = 0.0;
  for (let i: i64 = nSub - have; i < nSub; i++) s += ringAt(i);
  return s;
}

function closeSubBlock(): void {
  let e = 0.0;
  for (let c = 0; c < nch; c++) {
    const w = load<f64>(weightPtr + <usize>(c * 8));
    const ap = accPtr + <usize>(c * 8);
    if (w != 0) e += w * load<f64>(ap);
    store<f64>(ap, 0.0);
  }
  // The SIMD build's spare lane (odd channel counts) accumulates too; keep it bounded.
  if (nch & 1) store<f64>(accPtr + <usize>(nch * 8), 0.0);

  const oldM = nSub >= <i64>mLen ? ringAt(nSub - <i64>mLen) : 0.0;
  const oldS = nSub >= <i64>sLen ? ringAt(nSub) : 0.0;
  store<f64>(ringPtr + <usize>((nSub % <i64>sLen) * 8), e);
  nSub++;
  mSum += e - oldM;
  sSum += e - oldS;

  const atHop = nSub % <i64>subsPerHop == 0;
  if (atHop) {
    // Re-sum exactly so rounding in the running sums cannot build up over hours.
    mSum = windowSum(mLen);
    sSum = windowSum(sLen);
  }
  if (nSub >= <i64>mLen) {
    let me = mSum / <f64>(mLen * sub);
    if (me < 0) me = 0;
    if (me > mMax) mMax = me;
    if (me > mInterval) mInterval = me;
    if (atHop) histAdd(histIPtr, me);
  }
  if (nSub >= <i64>sLen) {
    let se = sSum / <f64>(sLen * sub);
    if (se < 0) se = 0;
    if (se > sMax) sMax = se;
    if (se > sInterval) sInterval = se;
    // LRA takes a short-term value every hop (2.9 s overlap). Tech 3342 asks for at least 2 s of
    // overlap; libebur128 uses 1 s hops, FFmpeg's ebur128 100 ms like here.
    if (atHop) histAdd(histSPtr, se);
  }
}

function histAdd(h: usize, e: f64): void {
  const l = toLufs(e);
  if (!(l > HIST_FLOOR)) return; // absolute gate (also drops e == 0)
  let bin = <i32>((l - HIST_FLOOR) * BINS_PER_LU);
  if (bin >= HIST_BINS) bin = HIST_BINS - 1;
  const cp = h + <usize>(bin * 8);
  store<f64>(cp, load<f64>(cp) + 1.0);
  const ep = h + <usize>((HIST_BINS + bin) * 8);
  store<f64>(ep, load<f64>(ep) + e);
}

function binCount(h: usize, bin: i32): f64 {
  return load<f64>(h + <usize>(bin * 8));
}

function binEnergy(h: usize, bin: i32): f64 {
  return load<f64>(h + <usize>((HIST_BINS + bin) * 8));
}

// First bin whose blocks pass a gate of `threshold` LUFS. Bins above the threshold bin pass
// whole; the threshold bin passes when its mean block is above the threshold.
function firstGatedBin(h: usize, threshold: f64): i32 {
  if (threshold <= HIST_FLOOR) return 0;
  const t = <i32>((threshold - HIST_FLOOR) * BINS_PER_LU);
  if (t >= HIST_BINS) return HIST_BINS;
  const n = binCount(h, t);
  return n > 0 && toLufs(binEnergy(h, t) / n) > threshold ? t : t + 1;
}

// Mean energy of the absolute-gated blocks, or -1 when none.
function absoluteMean(h: usize): f64 {
  let n = 0.0, e = 0.0;
  for (let b = 0; b < HIST_BINS; b++) {
    n += binCount(h, b);
    e += binEnergy(h, b);
  }
  return n > 0 ? e / n : -1;
}

/** Gated programme loudness (BS.1770-4), LUFS; NaN when no block passes the gates. */
export function integrated(): f64 {
  const mean = absoluteMean(histIPtr);
  if (mean < 0) return NaN;
  const first = firstGatedBin(histIPtr, toLufs(mean) - 10.0);
  let n = 0.0, e = 0.0;
  for (let b = first; b < HIST_BINS; b++) {
    n += binCount(histIPtr, b);
    e += binEnergy(histIPtr, b);
  }
  return n > 0 ? toLufs(e / n) : NaN;
}

/** Loudness range (Tech 3342), LU; NaN when no short-term value passes the gates. */
export function loudnessRange(): f64 {
  const h = histSPtr;
  const mean = absoluteMean(h);
  if (mean < 0) return NaN;
  const first = firstGatedBin(h, toLufs(mean) - 20.0);
  let n = 0.0;
  for (let b = first; b < HIST_BINS; b++) n += binCount(h, b);
  if (n <= 0) return NaN;
  // Nearest-rank percentiles as in Tech 3342's reference code: index round((n-1)·p).
  const lowRank = Math.floor((n - 1) * 0.1 + 0.5);
  const highRank = Math.floor((n - 1) * 0.95 + 0.5);
  let low = NaN, high = NaN;
  let seen = 0.0;
  for (let b = first; b < HIST_BINS; b++) {
    const c = binCount(h, b);
    if (c == 0) continue;
    const next = seen + c;
    if (isNaN(low) && lowRank < next) low = toLufs(binEnergy(h, b) / c);
    if (highRank < next) {
      high = toLufs(binEnergy(h, b) / c);
      break;
    }
    seen = next;
  }
  return high - low;
}

function windowLufs(e: f64): f64 {
  return e < 0 ? NaN : toLufs(e);
}

/** Highest 400 ms loudness, LUFS; NaN before the first full window, -Infinity for silence. */
export function momentaryMax(): f64 {
  return windowLufs(mMax);
}

/** Highest 3 s loudness, LUFS; NaN before the first full window, -Infinity for silence. */
export function shortTermMax(): f64 {
  return windowLufs(sMax);
}

/** Highest momentary loudness since the last resetInterval(). */
export function intervalMomentaryMax(): f64 {
  return windowLufs(mInterval);
}

export function intervalShortTermMax(): f64 {
  return windowLufs(sInterval);
}

export function resetInterval(): void {
  mInterval = -1;
  sInterval = -1;
}

/** dBFS. */
export function samplePeak(): f64 {
  return 20.0 * Math.log10(<f64>samplePk);
}

/** dBTP. Never below the sample peak: the interpolator's phase 0 is not exactly unity. */
export function truePeak(): f64 {
  return 20.0 * Math.log10(<f64>max(truePk, samplePk));
}

export function framesSeen(): f64 {
  return frames;
}

/**
 * The gating histogram (HIST_BINS f64 block counts, then HIST_BINS f64 energy sums; bin b holds
 * blocks of (-70 + b/200, -70 + (b+1)/200] LUFS). Read after finish() to gate several programmes
 * together (an album's loudness is the gated mean of all its tracks' blocks).
 */
export function gatingHistogramPtr(): usize {
  return histIPtr;
}

export function histogramBins(): i32 {
  return HIST_BINS;
}
