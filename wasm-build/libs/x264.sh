#!/usr/bin/env bash
# x264 (gpl profile): the H.264 encoder of the video ladders.
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir x264)"
apply_patches x264
# A previous build's installed x264.h would shadow the patched one (the prefix's include
# folder comes first in CFLAGS).
rm -f "$PREFIX/include/x264.h" "$PREFIX/include/x264_config.h" "$PREFIX/lib/libx264.a"
# configure disables the compiler's auto-vectorization for its C fallbacks (-fno-tree-vectorize);
# with wasm SIMD that is the cheapest speed there is, so keep it on.
sed -i 's/-fno-tree-vectorize//g' configure
# The mt variant keeps x264's own thread support, which its configure turns on when it finds pthreads.
threads=--disable-thread
[[ "$VARIANT" == mt ]] && threads=""
CC=emcc AR=emar RANLIB=emranlib emconfigure ./configure --prefix="$PREFIX" --host=i686-gnu \
  --enable-static --disable-cli --disable-asm --enable-pic --disable-opencl --disable-avs \
  --disable-swscale --disable-lavf --disable-ffms --disable-gpac --disable-lsmash \
  --bit-depth=8 --chroma-format=all $threads \
  --extra-cflags="$CFLAGS" --extra-ldflags="$LDFLAGS"
emmake make -j"$JOBS" lib-static
# Every SIMD128 kernel (patches/x264) against its C version on random blocks, with x264's own
# tools/checkasm run under Node (one self-contained .cjs: no fetch of a .wasm beside it). A
# kernel that disagrees with C stops the build here.
emmake make -j"$JOBS" checkasm8 LDFLAGS="$LDFLAGS -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sSINGLE_FILE=1"
cp checkasm8 checkasm8.cjs
for seed in 1 2 3 4 5 6 7 8; do
  node checkasm8.cjs "$seed" > checkasm.log 2>&1 || { cat checkasm.log >&2; echo "x264 checkasm failed (seed $seed)" >&2; exit 1; }
done
cat checkasm.log >&2
emmake make install-lib-static
