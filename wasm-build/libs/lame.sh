#!/usr/bin/env bash
# LAME: the MP3 encoder (GPL profile only; LGPL itself, but only the gpl profile ships MP3 presets through it).
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir lame)"
emconfigure ./configure --prefix="$PREFIX" --host=i686-linux --disable-shared --enable-static \
  --disable-frontend --disable-analyzer-hooks --disable-gtktest --disable-decoder
emmake make -j"$JOBS"
emmake make install
