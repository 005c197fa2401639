# Shared settings for every build script: sourced, never run. Reads PROFILE, VARIANT and WORK.
set -euo pipefail

: "${PROFILE:?PROFILE is gpl or lgpl}" "${VARIANT:?VARIANT is st or mt}" "${WORK:?WORK is the scratch folder}"
BUILD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$WORK/src"                          # one extracted Debian source tree per package
OUT="$WORK/$PROFILE-$VARIANT"            # per core: library builds and their install prefix
PREFIX="$OUT/prefix"
mkdir -p "$SRC" "$OUT/build" "$PREFIX/lib" "$PREFIX/include" "$PREFIX/lib/pkgconfig"

# Debian's emcc runs its JS optimizer under the system Node and needs Debian's acorn beside it.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"
# Pkg-config must see only the libraries built here, never the host's.
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
export PKG_CONFIG_LIBDIR="$PREFIX/lib/pkgconfig"
export EM_PKG_CONFIG_PATH="$PKG_CONFIG_PATH"

# -msimd128 lets clang auto-vectorize; hand-written SIMD comes from patches/.
OPT_FLAGS="-O3 -msimd128"
if [[ "$VARIANT" == mt ]]; then THREAD_FLAGS="-pthread"; else THREAD_FLAGS=""; fi
export CFLAGS="$OPT_FLAGS $THREAD_FLAGS -I$PREFIX/include"
export CXXFLAGS="$CFLAGS"
export LDFLAGS="$THREAD_FLAGS -L$PREFIX/lib"
JOBS="${JOBS:-$(nproc)}"
echo "$CFLAGS" > "$OUT/cflags.txt"

# The extracted source tree of a Debian source package (see fetch-sources.sh).
source_dir() {
  local dir
  dir="$(cat "$SRC/$1.dir" 2>/dev/null)" || { echo "source of $1 not fetched: run fetch-sources.sh" >&2; exit 1; }
  echo "$SRC/$dir"
}

# A fresh copy of a source tree to build in, so profiles and variants never share objects.
fresh_build_dir() {
  local src dest="$OUT/build/$1"
  src="$(source_dir "$1")"
  rm -rf "$dest"
  cp -a "$src" "$dest"
  echo "$dest"
}

# Applies patches/<name>/*.patch in order to the current directory.
apply_patches() {
  local p
  for p in "$BUILD_ROOT/patches/$1"/*.patch; do
    [[ -e "$p" ]] || continue
    echo "applying $(basename "$p")" >&2
    patch -p1 --forward --quiet < "$p"
  done
}
