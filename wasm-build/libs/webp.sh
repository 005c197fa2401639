#!/usr/bin/env bash
# libwebp: lossy and lossless WebP encoding for images (FFmpeg decodes WebP itself).
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir libwebp)"
emconfigure ./configure --prefix="$PREFIX" --host=i686-linux --disable-shared --enable-static \
  --disable-libwebpdemux --disable-libwebpmux --disable-libwebpdecoder --disable-gl --disable-sdl \
  --disable-png --disable-jpeg --disable-tiff --disable-gif --disable-wic --disable-threading \
  --disable-sse2 --disable-sse4.1 --disable-neon
emmake make -j"$JOBS"
emmake make install
