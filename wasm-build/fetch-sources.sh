#!/usr/bin/env bash
# Installs the toolchain (Debian's emscripten) and fetches the exact source packages of
# sources.lock with apt-get source, checking each file against sources.sha256.
# Usage: WORK=DIR fetch-sources.sh        (PROFILE and VARIANT are not needed here)
set -euo pipefail
: "${WORK:?WORK is the scratch folder}"
BUILD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$WORK/src"
mkdir -p "$SRC"

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! command -v emcc >/dev/null || ! command -v dpkg-source >/dev/null; then
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends emscripten dpkg-dev pkg-config meson ninja-build nasm xz-utils
fi
for tool in meson ninja pkg-config; do
  command -v "$tool" >/dev/null || as_root apt-get install -y --no-install-recommends meson ninja-build pkg-config
done

# apt-get source needs deb-src entries; bookworm's main, updates and security suites.
if ! apt-get indextargets --format '$(IDENTIFIER)' 2>/dev/null | grep -qx 'Sources'; then
  as_root tee /etc/apt/sources.list.d/sandcodec-deb-src.sources >/dev/null <<'LIST'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
LIST
  as_root apt-get update
fi

cd "$SRC"
grep -v '^#' "$BUILD_ROOT/sources.lock" | while IFS='=' read -r pkg version; do
  [[ -n "$pkg" ]] || continue
  if [[ -s "$pkg.dir" && -d "$(cat "$pkg.dir")" ]]; then continue; fi
  echo "fetching $pkg $version" >&2
  before="$(ls -d */ 2>/dev/null || true)"
  apt-get source --download-only "$pkg=$version" >/dev/null
  upstream="${version#*:}"
  dsc="${pkg}_${upstream}.dsc"
  # The .dsc lists every file of the package; check them all against the recorded sums.
  files=("$dsc" $(awk '/^Checksums-Sha256:/{f=1;next} /^[^ ]/{f=0} f{print $3}' "$dsc"))
  for f in "${files[@]}"; do
    sum="$(sha256sum "$f" | cut -d' ' -f1)"
    recorded="$(awk -v f="$f" '$2==f{print $1}' "$BUILD_ROOT/sources.sha256" 2>/dev/null || true)"
    if [[ -z "$recorded" ]]; then
      echo "$sum  $f" >> "$BUILD_ROOT/sources.sha256"
      echo "recorded new source file $f" >&2
    elif [[ "$recorded" != "$sum" ]]; then
      echo "sha256 of $f is $sum, sources.sha256 says $recorded" >&2
      exit 1
    fi
  done
  dpkg-source --no-check -x "$dsc" >/dev/null
  after="$(ls -d */)"
  dir="$(comm -13 <(echo "$before" | sort) <(echo "$after" | sort) | head -1)"
  dir="${dir%/}"
  [[ -n "$dir" ]] || { echo "cannot tell where $pkg was extracted" >&2; exit 1; }
  echo "$dir" > "$pkg.dir"
done
