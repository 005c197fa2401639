#!/usr/bin/env bash
# libvorbis: the Vorbis encoder (FFmpeg's native Vorbis encoder is not good enough for a ladder).
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir libvorbis)"
# Its configure adds -mno-ieee-fp for i686 hosts; clang rejects it and every configure probe fails.
sed -i 's/-mno-ieee-fp//g; s/-ffast-math//g' configure
# Without -msimd128 and -ffast-math: with clang 14's wasm SIMD auto-vectorization the encoder wrote
# different audio (0.4 LU louder, true peak 0.5 dB higher than native libvorbis and the stock core
# on the same input, test/cores.test.ts); at plain -O3 its output matches theirs.
CFLAGS="-O3 $THREAD_FLAGS -I$PREFIX/include" CXXFLAGS="-O3 $THREAD_FLAGS -I$PREFIX/include" emconfigure ./configure --prefix="$PREFIX" --host=i686-linux --disable-shared --enable-static \
  --disable-docs --disable-examples --disable-oggtest --with-ogg="$PREFIX"
emmake make -j"$JOBS"
emmake make install
