#!/usr/bin/env bash
# libvpx: the VP9 encoder of the WebM outputs (FFmpeg's own VP9 decoder reads VP9). BSD-licensed,
# so both profiles get it. No assembly for wasm: its generic C, auto-vectorized with -msimd128.
# Real-time only, at -Os: the outputs are encoded at the real-time deadline (the good deadline ran
# 8x slower here for 8 % fewer bytes at the same PSNR), and the other modes' code and -O3 would
# put the core past its 12 MB budget.
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir libvpx)"
# The mt variant keeps libvpx's row and tile threads, which FFmpeg's -threads drives.
threads=--disable-multithread
[[ "$VARIANT" == mt ]] && threads=--enable-multithread
CROSS=em CC=emcc CXX=em++ AR=emar LD=emcc STRIP=true emconfigure ./configure --prefix="$PREFIX" --target=generic-gnu \
  --disable-vp8 --enable-vp9 --disable-vp9-decoder --disable-vp9-highbitdepth \
  --enable-static --disable-shared --disable-install-bins --disable-examples --disable-tools \
  --disable-docs --disable-unit-tests --disable-dependency-tracking --disable-webm-io --disable-libyuv \
  --disable-runtime-cpu-detect --enable-pic --enable-realtime-only $threads \
  --extra-cflags="${CFLAGS/-O3/-Os}" --extra-cxxflags="${CXXFLAGS/-O3/-Os}"
emmake make -j"$JOBS"
emmake make install
