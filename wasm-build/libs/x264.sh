#!/usr/bin/env bash
# x264 (gpl profile): the H.264 encoder of the video ladders.
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir x264)"
apply_patches x264
# configure disables the compiler's auto-vectorization for its C fallbacks (-fno-tree-vectorize);
# with wasm SIMD that is the cheapest speed there is, so keep it on.
sed -i 's/-fno-tree-vectorize//g' configure
threads=--disable-thread
[[ "$VARIANT" == mt ]] && threads=--enable-thread
CC=emcc AR=emar RANLIB=emranlib emconfigure ./configure --prefix="$PREFIX" --host=i686-gnu \
  --enable-static --disable-cli --disable-asm --enable-pic --disable-opencl --disable-avs \
  --disable-swscale --disable-lavf --disable-ffms --disable-gpac --disable-lsmash \
  --bit-depth=8 --chroma-format=all $threads \
  --extra-cflags="$CFLAGS" --extra-ldflags="$LDFLAGS"
emmake make -j"$JOBS" lib-static
emmake make install-lib-static
