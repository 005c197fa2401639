#!/usr/bin/env bash
# dav1d: the AV1 decoder (both profiles; BSD-2-Clause).
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir dav1d)"
cat > cross.txt <<CROSS
[binaries]
c = 'emcc'
cpp = 'em++'
ar = 'emar'
strip = 'true'
pkgconfig = 'pkg-config'

[built-in options]
c_args = [$(printf "'%s'," $CFLAGS)]
c_link_args = [$(printf "'%s'," $LDFLAGS)]

[host_machine]
system = 'emscripten'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
CROSS
# Meson's threads dependency is -pthread under Emscripten, which would make the objects shared-
# memory objects that an st core cannot link. The st variant builds against Emscripten's pthread
# stubs instead: FFmpeg asks dav1d for one thread there, and dav1d then starts none.
if [[ "$VARIANT" == st ]]; then
  sed -i "s/thread_dependency = dependency('threads')/thread_dependency = declare_dependency()/" meson.build
fi
meson setup build --cross-file cross.txt --prefix="$PREFIX" --libdir=lib --buildtype=release \
  --default-library=static -Denable_asm=false -Denable_tools=false -Denable_tests=false \
  -Denable_examples=false -Dbitdepths='["8","16"]' -Dlogging=false
ninja -C build -j"$JOBS"
ninja -C build install
