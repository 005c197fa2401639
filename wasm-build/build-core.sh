#!/usr/bin/env bash
# Builds one FFmpeg core from Debian's sources: npm run build:core -- --profile gpl|lgpl --variant st|mt
# Writes wasm-build/dist/<profile>-<variant>/ (ffmpeg-core.cjs, ffmpeg-core.wasm, BUILD_ENV.txt) and
# updates wasm-build/dist/checksums.sha256. About 30 minutes on 2 cores from scratch.
set -euo pipefail
PROFILE=gpl VARIANT=st
while [[ $# -gt 0 ]]; do
  case "$1" in
    --profile) PROFILE="$2"; shift 2 ;;
    --variant) VARIANT="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;   # one step, e.g. --only link (for iterating on a recipe)
    *) echo "unknown argument $1 (use --profile gpl|lgpl --variant st|mt)" >&2; exit 2 ;;
  esac
done
[[ "$PROFILE" == gpl || "$PROFILE" == lgpl ]] || { echo "--profile must be gpl or lgpl" >&2; exit 2; }
[[ "$VARIANT" == st || "$VARIANT" == mt ]] || { echo "--variant must be st or mt" >&2; exit 2; }
BUILD_ROOT="$(cd "$(dirname "$0")" && pwd)"
export PROFILE VARIANT WORK="${WORK:-$BUILD_ROOT/.work}"

libs=(zlib lame ogg vorbis opus webp dav1d vpx)
# libjpeg-turbo's decoder is only linked into single-thread cores (the image pipeline's).
[[ "$VARIANT" == st ]] && libs+=(jpeg)
[[ "$PROFILE" == gpl ]] && libs+=(x264) || libs+=(openh264)
steps=(fetch "${libs[@]}" ffmpeg link record)
[[ -n "${ONLY:-}" ]] && steps=("$ONLY")

for step in "${steps[@]}"; do
  started=$SECONDS
  echo "== $step" >&2
  case "$step" in
    fetch) bash "$BUILD_ROOT/fetch-sources.sh" ;;
    ffmpeg) bash "$BUILD_ROOT/ffmpeg/build.sh" ;;
    link) bash "$BUILD_ROOT/ffmpeg/link.sh" ;;
    record) node "$BUILD_ROOT/record-build.mjs" "$PROFILE" "$VARIANT" ;;
    *) bash "$BUILD_ROOT/libs/$step.sh" ;;
  esac
  echo "== $step: $((SECONDS - started)) s" >&2
done
