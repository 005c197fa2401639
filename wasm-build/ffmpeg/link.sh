#!/usr/bin/env bash
# Compiles fftools (ffmpeg and ffprobe in one module) and links the core for Node:
# wasm-build/dist/<profile>-<variant>/ffmpeg-core.{cjs,wasm}.
source "$(dirname "$0")/../common.sh"
FF="$OUT/build/ffmpeg"
# CORE_DIR and EXTRA_LINK_FLAGS make a profiling build beside the committed core, e.g.
# CORE_DIR=/tmp/prof EXTRA_LINK_FLAGS=--profiling-funcs (function names for node --cpu-prof).
DIST="${CORE_DIR:-$BUILD_ROOT/dist/$PROFILE-$VARIANT}"
[[ -f "$FF/libavcodec/libavcodec.a" ]] || { echo "build FFmpeg first (ffmpeg/build.sh)" >&2; exit 1; }
cd "$FF"
cp "$BUILD_ROOT/ffmpeg/ffmpeg-main.c" "$BUILD_ROOT/ffmpeg/ffprobe-main.c" fftools/
objs=(fftools/ffmpeg-main.o fftools/ffprobe-main.o fftools/ffmpeg_opt.o fftools/ffmpeg_filter.o
  fftools/ffmpeg_hw.o fftools/ffmpeg_mux.o fftools/cmdutils.o fftools/opt_common.o)
emmake make -j"$JOBS" "${objs[@]}"
# libwebp's own decoder for the image pipeline's WebP stills (glue/webp-decode.c).
emcc $CFLAGS -c "$BUILD_ROOT/glue/webp-decode.c" -o fftools/webp-decode.o
objs+=(fftools/webp-decode.o)
exports=_ffmpeg_main,_ffprobe_main,_sandcodec_decode_totals,_sandcodec_webp_decode,_malloc,_free

libs=(-lx264)
[[ "$PROFILE" == lgpl ]] && libs=(-lopenh264)
libs+=(-lmp3lame -lopus -lvorbisenc -lvorbis -logg -lvpx -lwebp -lsharpyuv -ldav1d -lz -lm)
[[ -f "$PREFIX/lib/libsharpyuv.a" ]] || libs=("${libs[@]/-lsharpyuv}")
# libjpeg-turbo's decoder for the image pipeline's JPEGs (glue/jpeg-decode.c): single-thread cores
# only, which are the ones images run on.
if [[ "$VARIANT" == st ]]; then
  emcc $CFLAGS -c "$BUILD_ROOT/glue/jpeg-decode.c" -o fftools/jpeg-decode.o
  objs+=(fftools/jpeg-decode.o)
  libs=(-ljpeg "${libs[@]}")
  exports+=,_sandcodec_jpeg_decode
  # sbrk(0), the heap's high-water mark (Emscripten's heap only grows): the host zeroes a kept heap
  # up to there for the next run, not the pages no run has touched (which are zero already).
  exports+=,_sbrk
fi

# What the link promises the engine (src/worker/ffmpeg/built-core.ts):
#  - CommonJS for Node only, created per job by a factory; the host hands it the compiled module
#    (instantiateWasm) and its memory (IMPORTED_MEMORY: the job's heap cap is the memory's maximum);
#  - no process listeners, and exit() throws to the host instead of ending the process (the host
#    passes `quit`);
#  - a 5 MiB stack (libopus' analysis needs more than 1 MiB);
#  - real names: ffmpeg_main, ffprobe_main, sandcodec_decode_totals, sandcodec_webp_decode,
#    sandcodec_jpeg_decode (st), stackSave/stackRestore, and
#    the imports emscripten_resize_heap and sandcodec_cancel_requested (-lexports.js is what keeps
#    emcc from minifying import and export names at -O3).
# The objects are compiled at -O3 (cold ones at -Os, ffmpeg/build.sh); the link's own pass (wasm-opt)
# runs at -Oz. With libvpx in it, gpl-st is 11.64 MB and 4.01 MB gzipped at -Os, over the 4 MB
# budget; -Oz takes it well under. Speed (bench/cores.mjs, one run alternating with the -Os link
# and with the core before libvpx): audio presets, x264 720p and H.264 decode within this
# machine's noise. Before libvpx, -Os against -O3: 11.70 against 12.08 MB, the same speed.
link_flags=(
  -Oz -msimd128 $THREAD_FLAGS
  -sMODULARIZE=1 -sEXPORT_NAME=createFFmpegCore -sENVIRONMENT=node -sEXPORT_ES6=0
  -sINVOKE_RUN=0 -sEXIT_RUNTIME=0 -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
  -sIMPORTED_MEMORY=1 -sINITIAL_MEMORY=32MB -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2GB
  -sTOTAL_STACK=5MB -sFORCE_FILESYSTEM=1 -lexports.js
  -sEXPORTED_FUNCTIONS=$exports
  -sEXPORTED_RUNTIME_METHODS=FS,stackSave,stackRestore
  --js-library "$BUILD_ROOT/glue/library.js"
  ${EXTRA_LINK_FLAGS:-}
)
# Multithreaded cores (glue/mt-main.c, glue/mt-post.js): FFmpeg's main runs on a thread of its own
# (PROXY_TO_PTHREAD) so the host's thread stays free to serve the file I/O Emscripten proxies to it;
# threads start on demand (no pool made up front), each a Node worker running ffmpeg-core.worker.cjs;
# the memory is shared (its maximum is still the job's budget).
if [[ "$VARIANT" == mt ]]; then
  emcc $CFLAGS -c "$BUILD_ROOT/glue/mt-main.c" -o fftools/mt-main.o
  objs+=(fftools/mt-main.o)
  link_flags+=(
    -sPROXY_TO_PTHREAD=1 -sPTHREAD_POOL_SIZE=0 -sPTHREAD_POOL_SIZE_STRICT=0
    -sEXPORTED_FUNCTIONS=$exports,_main,_sandcodec_host_words
    --post-js "$BUILD_ROOT/glue/mt-post.js"
  )
fi
# OpenH264 sets thread attributes Emscripten's single-thread pthread stubs lack.
if [[ "$PROFILE" == lgpl && "$VARIANT" == st ]]; then
  emcc $CFLAGS -c "$BUILD_ROOT/glue/st-pthread-stubs.c" -o fftools/st-pthread-stubs.o
  objs+=(fftools/st-pthread-stubs.o)
fi
mkdir -p "$DIST"
emcc "${link_flags[@]}" "${objs[@]}" \
  libavdevice/libavdevice.a libavfilter/libavfilter.a libavformat/libavformat.a libavcodec/libavcodec.a \
  libswresample/libswresample.a libswscale/libswscale.a libavutil/libavutil.a \
  -L"$PREFIX/lib" "${libs[@]}" -o "$DIST/ffmpeg-core.cjs"
# The package is ESM ("type": "module"): the threads' script must say it is CommonJS by its name.
if [[ -f "$DIST/ffmpeg-core.worker.js" ]]; then mv "$DIST/ffmpeg-core.worker.js" "$DIST/ffmpeg-core.worker.cjs"; fi
echo "${link_flags[*]}" > "$OUT/link-flags.txt"
ls -l "$DIST"
