#!/usr/bin/env bash
# zlib: PNG, TIFF and the mov demuxer's compressed headers. No emscripten port is available offline.
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir zlib)"
CHOST=wasm32 emconfigure ./configure --prefix="$PREFIX" --static
emmake make -j"$JOBS" libz.a
emmake make install-libLTLIBRARIES install-static install-pkgconfig 2>/dev/null || emmake make install
