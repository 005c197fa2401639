#!/usr/bin/env bash
# libogg: the container layer under libvorbis.
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir libogg)"
emconfigure ./configure --prefix="$PREFIX" --host=i686-linux --disable-shared --enable-static
emmake make -j"$JOBS"
emmake make install
