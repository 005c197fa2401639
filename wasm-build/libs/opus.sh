#!/usr/bin/env bash
# libopus: the Opus encoder and decoder. Its analysis code needs a deep stack (the link gives 5 MiB).
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir opus)"
emconfigure ./configure --prefix="$PREFIX" --host=i686-linux --disable-shared --enable-static \
  --disable-doc --disable-extra-programs --disable-asm --disable-rtcd --disable-intrinsics \
  --disable-stack-protector
emmake make -j"$JOBS"
emmake make install
