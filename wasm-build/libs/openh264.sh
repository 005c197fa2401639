#!/usr/bin/env bash
# OpenH264 (lgpl profile): Cisco's BSD-licensed H.264 encoder, in place of x264.
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir openh264)"
apply_patches openh264
# Its Makefile builds for a named OS; "linux" with emcc gives a plain static library, no asm.
emmake make -j"$JOBS" OS=linux ARCH=wasm32 USE_ASM=No BUILDTYPE=Release \
  CC=emcc CXX=em++ AR=emar CFLAGS_OPT="$OPT_FLAGS" CFLAGS="$CFLAGS" CXXFLAGS="$CXXFLAGS" LDFLAGS="$LDFLAGS" \
  PREFIX="$PREFIX" libopenh264.a
emmake make OS=linux ARCH=wasm32 USE_ASM=No PREFIX="$PREFIX" install-static-lib install-headers 2>/dev/null \
  || { cp libopenh264.a "$PREFIX/lib/"; mkdir -p "$PREFIX/include/wels"; cp codec/api/wels/*.h "$PREFIX/include/wels/"; }
# FFmpeg finds it through pkg-config.
version="$(sed -n 's/^VERSION=//p' Makefile | head -1)"
cat > "$PREFIX/lib/pkgconfig/openh264.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include
Name: OpenH264
Description: OpenH264 is a codec library which supports H.264 encoding and decoding
Version: ${version:-2.3.1}
Libs: -L\${libdir} -lopenh264
Libs.private: -lm -lstdc++
Cflags: -I\${includedir}
PC
