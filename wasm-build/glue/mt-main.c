/*
 * For multithreaded cores only. With PROXY_TO_PTHREAD, Emscripten runs `main` on a thread of its
 * own while the host's thread keeps its event loop (it serves the program's file I/O, which
 * Emscripten proxies to it). One `main` runs either tool: argv[1] names it.
 *
 * The host's words: threads cannot read the host's JS objects (each thread has its own), so what
 * the single-thread core reads from `Module` (the cancel flag, the heap ceiling) lives here, in the
 * shared memory, where the host writes it before the run and every thread reads it.
 */
#include <emscripten.h>
#include <string.h>

int ffmpeg_main(int argc, char **argv);
int ffprobe_main(int argc, char **argv);
/* glue/library.js: tells the host's thread the run ended and how (ffprobe returns; ffmpeg exits). */
void sandcodec_run_ended(int status);

/*
 * [0] non-zero: stop at the next turn of the transcode loop; [1] the heap's ceiling in 64 KiB pages;
 * [2] the threads the run may use, which is what FFmpeg's `auto` thread counts resolve to;
 * [3] set by the core: a heap growth was refused (the job needed more than its budget).
 */
static volatile int host_words[4];

EMSCRIPTEN_KEEPALIVE int *sandcodec_host_words(void) { return (int *)host_words; }

int main(int argc, char **argv) {
  int status = argc > 1 && strcmp(argv[1], "ffprobe") == 0 ? ffprobe_main(argc - 1, argv + 1) : ffmpeg_main(argc - 1, argv + 1);
  sandcodec_run_ended(status);
  return status;
}
