// A YCbCr or grayscale JPEG decoded by libjpeg-turbo to its planes, for the image pipeline's ycc
// kernel: libjpeg-turbo's Huffman decoder and its scaled IDCTs (1/2, 1/4, 1/8, what libvips'
// shrink-on-load uses) decode baseline files faster in wasm than FFmpeg's mjpeg decoder, and the
// planes are the ones libvips and Pillow convert.
//
// sandcodec_jpeg_decode(data, size, denom, width, height, layout, plane_layout, message):
// decodes at 1/denom (1, 2, 4 or 8) to the planes packed as FFmpeg's yuvj420p/422p/444p or gray in
// `plane_layout` (Y at ceil(width / denom) × ceil(height / denom), then Cb and Cr at their
// subsampled sizes, rounded up). The planes are not kept here: each strip of rows goes to the host
// as it is decoded (sandcodec_jpeg_rows, glue/library.js), which writes them where they will be
// used, so the heap never holds the whole picture. `width`, `height` and `layout` (0 gray, 1 4:4:4, 2 4:2:2,
// 3 4:2:0) are what the caller read from the header; a file that is anything else is refused, not
// decoded. The layout of the planes can differ from the file's: a scaled 4:2:0 decode comes out
// with chroma at the luma's size, because libjpeg scales chroma up in its IDCT (a 1/2 decode runs
// a 4×4 IDCT on luma blocks and the full 8×8 on chroma) rather than upsampling it afterwards; and
// at 1/8, where libjpeg upsamples by plain replication (its "fancy" upsampling needs scaled blocks
// of more than one pixel), 4:2:2 chroma is widened here the same way, into 4:4:4 planes.
// Returns one of the codes below; for JPEG_ERROR and JPEG_WARNING, libjpeg's message is in
// `message` (at least JMSG_LENGTH_MAX bytes) unless it is NULL. A warning (corrupt or truncated data, which libjpeg
// would decode around) stops the decode: the caller decides what a damaged file becomes. Memory
// comes from this heap and its cap; the run can be cancelled between rows through
// sandcodec_cancel_requested.
#include <emscripten.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#define JPEG_OK 0
#define JPEG_ERROR 1
#define JPEG_WARNING 2
#define JPEG_OUT_OF_MEMORY 3
#define JPEG_NOT_AS_STATED 4
#define JPEG_CANCELLED 5

int sandcodec_cancel_requested(void);
// Hands the host `count` rows of `width` bytes, `stride` apart from `src`, for the packed planes
// at byte `offset` (rows one after the other); nonzero means they do not fit there.
int sandcodec_jpeg_rows(size_t offset, const uint8_t* src, unsigned stride, unsigned width, unsigned count);

struct failure {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  int code;
  char* message;
};

static void fail(j_common_ptr cinfo, int code) {
  struct failure* f = (struct failure*)cinfo->err;
  f->code = code;
  if (f->message) (*cinfo->err->format_message)(cinfo, f->message);
  longjmp(f->jump, 1);
}

static void on_error(j_common_ptr cinfo) {
  fail(cinfo, cinfo->err->msg_code == JERR_OUT_OF_MEMORY ? JPEG_OUT_OF_MEMORY : JPEG_ERROR);
}

static void on_message(j_common_ptr cinfo, int level) {
  // Level -1 is a warning (damaged data); trace messages (level >= 1) are dropped.
  if (level < 0) fail(cinfo, JPEG_WARNING);
}

static void on_progress(j_common_ptr cinfo) {
  if (sandcodec_cancel_requested()) {
    struct failure* f = (struct failure*)cinfo->err;
    f->code = JPEG_CANCELLED;
    longjmp(f->jump, 1);
  }
}

// Luma's sampling factors over chroma's (across, down) in each layout: libjpeg's upsampler reads
// the ratio, so Y 1×2 over Cb, Cr 1×2 (FFmpeg's 4:4:4) is 4:4:4 like Y 1×1 over 1×1.
static const int ACROSS[4] = {1, 1, 2, 2};
static const int DOWN[4] = {1, 1, 1, 2};

static unsigned ceil_div(unsigned a, unsigned b) { return (a + b - 1) / b; }

EMSCRIPTEN_KEEPALIVE int sandcodec_jpeg_decode(const uint8_t* data, size_t size, int denom, int width, int height, int layout,
                                               int plane_layout, char* message) {
  struct jpeg_decompress_struct cinfo;
  struct failure f;
  struct jpeg_progress_mgr progress;
  // The strip of rows one jpeg_read_raw_data call writes: per component, row pointers into `strip`.
  // Volatile: set after setjmp, and freed after a longjmp.
  JSAMPROW* volatile rows[3] = {NULL, NULL, NULL};
  JSAMPLE* volatile strip = NULL;
  uint8_t* volatile wide = NULL;
  if (layout < 0 || layout > 3 || plane_layout < 0 || plane_layout > 3 || (plane_layout == 0) != (layout == 0) || (denom != 1 && denom != 2 && denom != 4 && denom != 8)) return JPEG_NOT_AS_STATED;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&f.mgr);
  f.mgr.error_exit = on_error;
  f.mgr.emit_message = on_message;
  f.code = JPEG_OK;
  f.message = message;
  if (setjmp(f.jump)) {
    free(wide);
    free(strip);
    for (int c = 0; c < 3; c++) free(rows[c]);
    jpeg_destroy_decompress(&cinfo);
    return f.code;
  }
  jpeg_create_decompress(&cinfo);
  progress.progress_monitor = on_progress;
  cinfo.progress = &progress;
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  const int components = layout == 0 ? 1 : 3;
  int as_stated = (int)cinfo.image_width == width && (int)cinfo.image_height == height && cinfo.num_components == components &&
                  cinfo.data_precision == 8 && !cinfo.arith_code;
  if (as_stated && components == 1) as_stated = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  if (as_stated && components == 3) {
    const jpeg_component_info* comp = cinfo.comp_info;
    as_stated = cinfo.jpeg_color_space == JCS_YCbCr && comp[1].h_samp_factor == comp[2].h_samp_factor &&
                comp[1].v_samp_factor == comp[2].v_samp_factor &&
                comp[0].h_samp_factor == ACROSS[layout] * comp[1].h_samp_factor &&
                comp[0].v_samp_factor == DOWN[layout] * comp[1].v_samp_factor;
  }
  if (!as_stated) {
    jpeg_destroy_decompress(&cinfo);
    return JPEG_NOT_AS_STATED;
  }
  cinfo.scale_num = 1;
  cinfo.scale_denom = denom;
  cinfo.raw_data_out = TRUE;
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);

  const unsigned ow = cinfo.output_width, oh = cinfo.output_height;
  const unsigned strip_rows = cinfo.max_v_samp_factor * cinfo.min_DCT_scaled_size;
  // Each component's plane in the packed planes (its offset) and its size there; in the strip, its
  // rows are padded to whole blocks.
  size_t plane[3];
  unsigned pw[3], ph[3], stride[3], comp_rows[3], widen[3];
  size_t strip_bytes = 0, wide_bytes = 0;
  size_t at = 0;
  for (int c = 0; c < components; c++) {
    jpeg_component_info* comp = &cinfo.comp_info[c];
    pw[c] = comp->downsampled_width;
    ph[c] = comp->downsampled_height;
    // The planes' sizes in `plane_layout`: chroma halved across in 4:2:2, and down too in 4:2:0.
    const unsigned want_w = c == 0 || plane_layout == 1 ? ow : ceil_div(ow, 2);
    const unsigned want_h = c == 0 || plane_layout != 3 ? oh : ceil_div(oh, 2);
    // Widening by replication only where libjpeg itself would replicate (see above).
    widen[c] = pw[c] != want_w && pw[c] == ceil_div(want_w, 2) && cinfo.min_DCT_scaled_size == 1 ? 2 : 1;
    if ((widen[c] == 1 && pw[c] != want_w) || ph[c] != want_h) {
      jpeg_destroy_decompress(&cinfo);
      return JPEG_NOT_AS_STATED;
    }
    stride[c] = comp->width_in_blocks * comp->DCT_scaled_size;
    comp_rows[c] = comp->v_samp_factor * comp->DCT_scaled_size;
    pw[c] = want_w;
    plane[c] = at;
    at += (size_t)pw[c] * ph[c];
    strip_bytes += (size_t)stride[c] * comp_rows[c];
    if (widen[c] == 2 && (size_t)pw[c] * comp_rows[c] > wide_bytes) wide_bytes = (size_t)pw[c] * comp_rows[c];
  }
  if (wide_bytes) {
    wide = (uint8_t*)malloc(wide_bytes);
    if (!wide) {
      f.code = JPEG_OUT_OF_MEMORY;
      longjmp(f.jump, 1);
    }
  }
  JSAMPLE* base = (JSAMPLE*)malloc(strip_bytes);
  if (!base) {
    f.code = JPEG_OUT_OF_MEMORY;
    longjmp(f.jump, 1);
  }
  strip = base;
  JSAMPARRAY arrays[3];
  for (int c = 0; c < components; c++) {
    JSAMPROW* list = (JSAMPROW*)malloc(sizeof(JSAMPROW) * comp_rows[c]);
    if (!list) {
      f.code = JPEG_OUT_OF_MEMORY;
      longjmp(f.jump, 1);
    }
    rows[c] = list;
    for (unsigned r = 0; r < comp_rows[c]; r++) list[r] = base + (size_t)r * stride[c];
    base += (size_t)stride[c] * comp_rows[c];
    arrays[c] = list;
  }
  while (cinfo.output_scanline < oh) {
    const unsigned first = cinfo.output_scanline;
    if (jpeg_read_raw_data(&cinfo, arrays, strip_rows) != strip_rows) {
      // Suspension cannot happen with a memory source: the data ran out.
      f.code = JPEG_ERROR;
      if (message) snprintf(message, JMSG_LENGTH_MAX, "the scan data ends early");
      longjmp(f.jump, 1);
    }
    for (int c = 0; c < components; c++) {
      // Rows of this component that the strip covers (one iMCU row: comp_rows[c] of them, which
      // is not first's share by sampling factors when chroma was scaled up), cut at the plane's height.
      const unsigned y0 = first / strip_rows * comp_rows[c];
      if (y0 >= ph[c]) continue;
      const unsigned count = comp_rows[c] < ph[c] - y0 ? comp_rows[c] : ph[c] - y0;
      const uint8_t* src = arrays[c][0];
      unsigned src_stride = stride[c];
      if (widen[c] == 2) {
        for (unsigned r = 0; r < count; r++) {
          uint8_t* dst = wide + (size_t)r * pw[c];
          for (unsigned x = 0; x < pw[c]; x++) dst[x] = arrays[c][r][x >> 1];
        }
        src = wide;
        src_stride = pw[c];
      }
      if (sandcodec_jpeg_rows(plane[c] + (size_t)y0 * pw[c], src, src_stride, pw[c], count)) {
        f.code = JPEG_NOT_AS_STATED;
        longjmp(f.jump, 1);
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  free(wide);
  free(strip);
  for (int c = 0; c < 3; c++) free(rows[c]);
  jpeg_destroy_decompress(&cinfo);
  return JPEG_OK;
}
