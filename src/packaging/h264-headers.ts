/**
 * H.264 (ITU-T H.264, 7.3) parameter sets and slice headers, read only as far as Common
 * Encryption needs: how many bytes of a slice NAL unit come before its slice data. Those bytes
 * (NAL header and slice header) stay in the clear, so that a player can parse the slice before
 * it decrypts it (ISO/IEC 23001-7, 9.5 and 10.4).
 * Sizes count the NAL unit's bytes as stored, emulation prevention bytes included.
 */

export interface Sps {
  id: number;
  chromaArrayType: number;
  separateColourPlane: boolean;
  log2MaxFrameNum: number;
  pocType: number;
  log2MaxPocLsb: number;
  deltaPicOrderAlwaysZero: boolean;
  frameMbsOnly: boolean;
  picSizeInMapUnits: number;
}

export interface Pps {
  id: number;
  spsId: number;
  entropyCodingMode: boolean;
  bottomFieldPicOrderInFramePresent: boolean;
  numSliceGroups: number;
  sliceGroupMapType: number;
  sliceGroupChangeRate: number;
  numRefIdxL0Default: number;
  numRefIdxL1Default: number;
  weightedPred: boolean;
  weightedBipredIdc: number;
  deblockingFilterControlPresent: boolean;
  redundantPicCntPresent: boolean;
}

/** Parameter sets by id, as a decoder keeps them: a later set with the same id replaces the earlier. */
export class ParameterSets {
  readonly sps = new Map<number, Sps>();
  readonly pps = new Map<number, Pps>();

  /** Takes an SPS (type 7) or PPS (type 8) NAL unit, header byte included; ignores others. */
  add(nal: Uint8Array): void {
    const type = nal[0]! & 0x1f;
    if (type === 7) {
      const sps = parseSps(nal);
      this.sps.set(sps.id, sps);
    } else if (type === 8) {
      const pps = parsePps(nal, this.sps);
      this.pps.set(pps.id, pps);
    }
  }
}

export class H264SyntaxError extends Error {}

/** Exp-Golomb and fixed-width reads over a NAL unit, skipping emulation prevention bytes. */
class NalReader {
  private byte: number;
  private bit = 0;
  private zeros = 0;
  private escapes = 0;

  constructor(
    private readonly nal: Uint8Array,
    start: number,
  ) {
    this.byte = start;
  }

  /** Bytes of the NAL unit consumed so far, a partly read byte counting whole. */
  get bytesUsed(): number {
    return this.byte + (this.bit > 0 ? 1 : 0);
  }

  /** Bits of the RBSP (the NAL unit without its emulation prevention bytes) consumed so far. */
  get rbspBits(): number {
    return (this.byte - this.escapes) * 8 + this.bit;
  }

  u1(): number {
    if (this.bit === 0) this.skipEmulationPrevention();
    if (this.byte >= this.nal.byteLength) throw new H264SyntaxError('the header runs past the end of the NAL unit');
    const v = (this.nal[this.byte]! >> (7 - this.bit)) & 1;
    if (++this.bit === 8) {
      this.zeros = this.nal[this.byte] === 0 ? this.zeros + 1 : 0;
      this.bit = 0;
      this.byte++;
    }
    return v;
  }

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.u1();
    return v;
  }

  ue(): number {
    let leading = 0;
    while (this.u1() === 0) {
      // 32 leading zeros would code a value past 2^32: no conforming stream has one.
      if (++leading > 31) throw new H264SyntaxError('an Exp-Golomb code longer than 32 bits');
    }
    return 2 ** leading - 1 + this.u(leading);
  }

  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** 0x000003: the 03 is not part of the RBSP (7.4.1). */
  private skipEmulationPrevention(): void {
    if (this.zeros >= 2 && this.nal[this.byte] === 3) {
      this.byte++;
      this.escapes++;
      this.zeros = 0;
    }
  }
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: NalReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

export function parseSps(nal: Uint8Array): Sps {
  const r = new NalReader(nal, 1);
  const profile = r.u(8);
  r.u(16); // constraint flags, level
  const id = r.ue();
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormatIdc = r.ue();
    if (chromaFormatIdc === 3) separateColourPlane = r.u1() === 1;
    r.ue(); // bit_depth_luma_minus8
    r.ue(); // bit_depth_chroma_minus8
    r.u1(); // qpprime_y_zero_transform_bypass_flag
    if (r.u1()) {
      for (let i = 0; i < (chromaFormatIdc !== 3 ? 8 : 12); i++) if (r.u1()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  let log2MaxPocLsb = 0;
  let deltaPicOrderAlwaysZero = false;
  if (pocType === 0) log2MaxPocLsb = r.ue() + 4;
  else if (pocType === 1) {
    deltaPicOrderAlwaysZero = r.u1() === 1;
    r.se();
    r.se();
    const cycle = r.ue();
    if (cycle > 255) throw new H264SyntaxError(`an SPS with ${cycle} reference frames in its POC cycle`);
    for (let i = 0; i < cycle; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u1(); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = r.ue() + 1;
  const heightInMapUnits = r.ue() + 1;
  const frameMbsOnly = r.u1() === 1;
  if (log2MaxFrameNum > 16 || log2MaxPocLsb > 16) throw new H264SyntaxError('an SPS with out-of-range frame or POC widths');
  return {
    id,
    chromaArrayType: separateColourPlane ? 0 : chromaFormatIdc,
    separateColourPlane,
    log2MaxFrameNum,
    pocType,
    log2MaxPocLsb,
    deltaPicOrderAlwaysZero,
    frameMbsOnly,
    picSizeInMapUnits: widthInMbs * heightInMapUnits,
  };
}

export function parsePps(nal: Uint8Array, sps: ReadonlyMap<number, Sps>): Pps {
  const r = new NalReader(nal, 1);
  const id = r.ue();
  const spsId = r.ue();
  const entropyCodingMode = r.u1() === 1;
  const bottomFieldPicOrderInFramePresent = r.u1() === 1;
  const numSliceGroups = r.ue() + 1;
  let sliceGroupMapType = 0;
  let sliceGroupChangeRate = 1;
  if (numSliceGroups > 8) throw new H264SyntaxError(`a PPS with ${numSliceGroups} slice groups`);
  if (numSliceGroups > 1) {
    sliceGroupMapType = r.ue();
    if (sliceGroupMapType === 0) for (let g = 0; g < numSliceGroups; g++) r.ue();
    else if (sliceGroupMapType === 2)
      for (let g = 0; g < numSliceGroups - 1; g++) {
        r.ue();
        r.ue();
      }
    else if (sliceGroupMapType >= 3 && sliceGroupMapType <= 5) {
      r.u1();
      sliceGroupChangeRate = r.ue() + 1;
    } else if (sliceGroupMapType === 6) {
      const units = r.ue() + 1;
      const s = sps.get(spsId);
      if (!s || units > s.picSizeInMapUnits) throw new H264SyntaxError('a PPS slice group map larger than its picture');
      const bits = Math.ceil(Math.log2(numSliceGroups));
      for (let i = 0; i < units; i++) r.u(bits);
    }
  }
  const numRefIdxL0Default = r.ue() + 1;
  const numRefIdxL1Default = r.ue() + 1;
  const weightedPred = r.u1() === 1;
  const weightedBipredIdc = r.u(2);
  r.se(); // pic_init_qp_minus26
  r.se(); // pic_init_qs_minus26
  r.se(); // chroma_qp_index_offset
  const deblockingFilterControlPresent = r.u1() === 1;
  r.u1(); // constrained_intra_pred_flag
  const redundantPicCntPresent = r.u1() === 1;
  return {
    id,
    spsId,
    entropyCodingMode,
    bottomFieldPicOrderInFramePresent,
    numSliceGroups,
    sliceGroupMapType,
    sliceGroupChangeRate,
    numRefIdxL0Default,
    numRefIdxL1Default,
    weightedPred,
    weightedBipredIdc,
    deblockingFilterControlPresent,
    redundantPicCntPresent,
  };
}

const P = 0;
const B = 1;
const I = 2;
const SP = 3;
const SI = 4;

function refPicListModification(r: NalReader): void {
  if (!r.u1()) return;
  for (let n = 0; ; n++) {
    const idc = r.ue();
    if (idc === 3) return;
    if (idc > 5 || n > 64) throw new H264SyntaxError('a malformed reference list modification');
    r.ue();
  }
}

function predWeightTable(r: NalReader, sps: Sps, sliceType: number, l0: number, l1: number): void {
  r.ue(); // luma_log2_weight_denom
  if (sps.chromaArrayType !== 0) r.ue();
  for (const count of sliceType === B ? [l0, l1] : [l0]) {
    for (let i = 0; i < count; i++) {
      if (r.u1()) {
        r.se();
        r.se();
      }
      if (sps.chromaArrayType !== 0 && r.u1()) for (let j = 0; j < 4; j++) r.se();
    }
  }
}

function decRefPicMarking(r: NalReader, idr: boolean): void {
  if (idr) {
    r.u(2);
    return;
  }
  if (!r.u1()) return;
  for (let n = 0; ; n++) {
    const op = r.ue();
    if (op === 0) return;
    if (op > 6 || n > 64) throw new H264SyntaxError('a malformed reference picture marking');
    if (op === 1 || op === 3) r.ue();
    if (op === 2) r.ue();
    if (op === 3 || op === 6) r.ue();
    if (op === 4) r.ue();
  }
}

/**
 * Bytes at the start of a coded slice NAL unit (type 1 or 5, header byte included) that hold its
 * NAL header and slice header: everything before slice_data() (7.3.3).
 */
export function sliceHeaderSize(nal: Uint8Array, sets: ParameterSets): number {
  return readSliceHeader(nal, sets).bytes;
}

/** The slice header's end: in stored bytes (rounded up), and in RBSP bits from the NAL header's first bit. */
export function readSliceHeader(nal: Uint8Array, sets: ParameterSets): { bytes: number; rbspBits: number } {
  const nalRefIdc = (nal[0]! >> 5) & 3;
  const type = nal[0]! & 0x1f;
  const idr = type === 5;
  const r = new NalReader(nal, 1);
  r.ue(); // first_mb_in_slice
  const sliceType = r.ue() % 5;
  const ppsId = r.ue();
  const pps = sets.pps.get(ppsId);
  if (!pps) throw new H264SyntaxError(`a slice refers to PPS ${ppsId}, which was not sent`);
  const sps = sets.sps.get(pps.spsId);
  if (!sps) throw new H264SyntaxError(`PPS ${ppsId} refers to SPS ${pps.spsId}, which was not sent`);
  if (sps.separateColourPlane) r.u(2);
  r.u(sps.log2MaxFrameNum);
  let fieldPic = false;
  if (!sps.frameMbsOnly) {
    fieldPic = r.u1() === 1;
    if (fieldPic) r.u1();
  }
  if (idr) r.ue();
  if (sps.pocType === 0) {
    r.u(sps.log2MaxPocLsb);
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) r.se();
  }
  if (sps.pocType === 1 && !sps.deltaPicOrderAlwaysZero) {
    r.se();
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) r.se();
  }
  if (pps.redundantPicCntPresent) r.ue();
  if (sliceType === B) r.u1();
  let l0 = pps.numRefIdxL0Default;
  let l1 = pps.numRefIdxL1Default;
  if (sliceType === P || sliceType === SP || sliceType === B) {
    if (r.u1()) {
      l0 = r.ue() + 1;
      if (sliceType === B) l1 = r.ue() + 1;
    }
  }
  if (l0 > 32 || l1 > 32) throw new H264SyntaxError('a slice with more than 32 active references');
  if (sliceType !== I && sliceType !== SI) {
    refPicListModification(r);
    if (sliceType === B) refPicListModification(r);
  }
  if ((pps.weightedPred && (sliceType === P || sliceType === SP)) || (pps.weightedBipredIdc === 1 && sliceType === B))
    predWeightTable(r, sps, sliceType, l0, l1);
  if (nalRefIdc !== 0) decRefPicMarking(r, idr);
  if (pps.entropyCodingMode && sliceType !== I && sliceType !== SI) r.ue();
  r.se(); // slice_qp_delta
  if (sliceType === SP || sliceType === SI) {
    if (sliceType === SP) r.u1();
    r.se();
  }
  if (pps.deblockingFilterControlPresent) {
    if (r.ue() !== 1) {
      r.se();
      r.se();
    }
  }
  if (pps.numSliceGroups > 1 && pps.sliceGroupMapType >= 3 && pps.sliceGroupMapType <= 5) {
    r.u(Math.ceil(Math.log2(sps.picSizeInMapUnits / pps.sliceGroupChangeRate + 1)));
  }
  return { bytes: r.bytesUsed, rbspBits: r.rbspBits };
}
