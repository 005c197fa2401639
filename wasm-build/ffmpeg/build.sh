#!/usr/bin/env bash
# FFmpeg's libraries, configured with only the components of components.txt and the external
# libraries of the profile. The programs are not built here: link.sh compiles fftools into the core.
source "$(dirname "$0")/../common.sh"
cd "$(fresh_build_dir ffmpeg)"
apply_patches ffmpeg

# components.txt → --enable-KIND=NAME for every line of this profile (or of every profile).
enables=()
while read -r kind name profile _; do
  [[ -z "$kind" || "$kind" == \#* ]] && continue
  [[ -n "${profile:-}" && "$profile" != "$PROFILE" ]] && continue
  enables+=("--enable-$kind=$name")
done < "$BUILD_ROOT/ffmpeg/components.txt"

external=(--enable-zlib --enable-libmp3lame --enable-libopus --enable-libvorbis --enable-libwebp --enable-libdav1d --enable-libvpx)
case "$PROFILE" in
  gpl) external+=(--enable-gpl --enable-libx264) ;;
  lgpl) external+=(--enable-libopenh264) ;;
  *) echo "unknown profile $PROFILE" >&2; exit 1 ;;
esac
threads=(--disable-pthreads --disable-w32threads --disable-os2threads)
[[ "$VARIANT" == mt ]] && threads=(--enable-pthreads)

# The cross-compile settings: no assembler of any kind (wasm SIMD comes from C), no runtime CPU
# detection, nothing autodetected from the host, no network code at all.
./configure \
  --target-os=none --arch=x86_32 --enable-cross-compile \
  --disable-asm --disable-x86asm --disable-inline-asm --disable-runtime-cpudetect \
  --disable-autodetect --disable-network --disable-debug --disable-doc --disable-programs \
  --disable-everything --enable-avdevice --disable-postproc --disable-iconv --enable-avfilter --enable-swscale --enable-swresample \
  --disable-stripping \
  --cc=emcc --cxx=em++ --ar=emar --ranlib=emranlib --nm=emnm --pkg-config=pkg-config --pkg-config-flags=--static \
  --extra-cflags="$CFLAGS" --extra-cxxflags="$CXXFLAGS" --extra-ldflags="$LDFLAGS" \
  "${threads[@]}" "${external[@]}" "${enables[@]}"

# Cold code at -Os, the rest at -O3: the demuxers and muxers (they parse headers and move packets)
# and the decoders of legacy and rare formats, which the engine takes as inputs but seldom sees
# and never benchmarks. The hot paths (H.264, HEVC, VP8/9, AAC, MP3, Opus, Vorbis, FLAC, JPEG,
# PNG, WebP, the encoders, swscale, the filters) stay at -O3. This keeps each core inside its 12 MB
# budget with libvpx in it. Make's pattern-specific variables add -Os after -O3, and the last wins.
cat >> ffbuild/config.mak <<'MAKE'
COLD_CODECS = vc1 wmv2 msmpeg4 intelh263 flvdec h263dec ituh263dec mpeg4videodec mpeg12dec svq1 svq3 \
  cinepak vp56 vp6 vp3 theora prores dnxhd dv ffv1 utvideo qtrle mjpegb dca mlp truehd ape tak tta \
  wavpack wma als mpc dsd gsm msgsm adpcm g722 g726 amrnb amrwb acelp celp ac3 eac3
$(foreach c,$(COLD_CODECS),libavcodec/$(c)%.o): CFLAGS += -Os
libavformat/%.o libavdevice/%.o: CFLAGS += -Os
MAKE

emmake make -j"$JOBS" \
  libavcodec/libavcodec.a libavformat/libavformat.a libavfilter/libavfilter.a \
  libavdevice/libavdevice.a libavutil/libavutil.a libswscale/libswscale.a libswresample/libswresample.a
# fftools' headers and the configure results link.sh compiles against stay in this tree.
