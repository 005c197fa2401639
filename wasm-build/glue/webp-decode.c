// A WebP still decoded by libwebp itself, straight to RGBA8 (not premultiplied), for the image
// pipeline: libwebp's decoder and its fancy upsampling are what libvips and browsers use, and in
// wasm they run several times as fast as FFmpeg's VP8 decoder followed by swscale.
//
// sandcodec_webp_decode(data, size, out, width, height): `out` holds width × height × 4 bytes; the
// bitstream must be a single picture of exactly that size. Returns 0, or libwebp's
// VP8StatusCode (1-7), or one of the codes below. Nothing is allocated past the decoder's own
// buffers, which come from this heap and its cap.
#include <emscripten.h>
#include <stddef.h>
#include <stdint.h>
#include <webp/decode.h>

#define SANDCODEC_WEBP_BAD_CONFIG 100
#define SANDCODEC_WEBP_SIZE_MISMATCH 101
#define SANDCODEC_WEBP_ANIMATED 102

EMSCRIPTEN_KEEPALIVE int sandcodec_webp_decode(const uint8_t* data, size_t size, uint8_t* out, int width, int height) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return SANDCODEC_WEBP_BAD_CONFIG;
  VP8StatusCode status = WebPGetFeatures(data, size, &config.input);
  if (status != VP8_STATUS_OK) return status;
  if (config.input.has_animation) return SANDCODEC_WEBP_ANIMATED;
  if (config.input.width != width || config.input.height != height) return SANDCODEC_WEBP_SIZE_MISMATCH;
  config.output.colorspace = MODE_RGBA;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out;
  config.output.u.RGBA.stride = width * 4;
  config.output.u.RGBA.size = (size_t)width * (size_t)height * 4;
  config.options.use_threads = 0;
  status = WebPDecode(data, size, &config);
  WebPFreeDecBuffer(&config.output);
  return status;
}
