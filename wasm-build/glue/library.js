// Functions the core imports from its host (linked with --js-library). They read what the host
// put on the module object before the run, so one compiled module serves every job.
mergeInto(LibraryManager.library, {
#if USE_PTHREADS
  // Multithreaded cores: FFmpeg runs on a thread, which cannot see the host's `Module`; the host
  // writes the flag and the ceiling into the shared words of glue/mt-main.c instead. The views are
  // made per call because the memory may have grown since the last one.
  sandcodec_cancel_requested: function () {
    return Atomics.load(new Int32Array(wasmMemory.buffer), _sandcodec_host_words() >> 2) !== 0 ? 1 : 0;
  },
  emscripten_get_heap_max: function () {
    var pages = Atomics.load(new Int32Array(wasmMemory.buffer), (_sandcodec_host_words() >> 2) + 1);
    return pages > 0 ? pages * 65536 : 2147483648;
  },
  // Emscripten's growth rule (at least the request, 20 % more while that fits, never past the
  // ceiling), from whichever thread allocates; a refusal is noted in word [3] for the host, which
  // cannot wrap this import in the threads' own instances as it does in a single-thread core.
  emscripten_resize_heap__deps: ['emscripten_get_heap_max', '$emscripten_realloc_buffer'],
  emscripten_resize_heap: function (requestedSize) {
    var oldSize = wasmMemory.buffer.byteLength;
    requestedSize = requestedSize >>> 0;
    // Another thread may have grown it meanwhile: the caller retries.
    if (requestedSize <= oldSize) return false;
    var maxHeapSize = _emscripten_get_heap_max();
    if (requestedSize <= maxHeapSize) {
      for (var cutDown = 1; cutDown <= 4; cutDown *= 2) {
        var overGrown = Math.min(oldSize * (1 + 0.2 / cutDown), requestedSize + 100663296);
        var newSize = Math.min(maxHeapSize, Math.ceil(Math.max(requestedSize, overGrown) / 65536) * 65536);
        if (emscripten_realloc_buffer(newSize)) return true;
      }
    }
    Atomics.store(new Int32Array(wasmMemory.buffer), (_sandcodec_host_words() >> 2) + 3, 1);
    return false;
  },
  // What sysconf(_SC_NPROCESSORS_ONLN), and so every `threads auto` of FFmpeg, sees: the threads
  // the job was allowed, not the host's core count (a decoder on a 64-core host would start 64).
  emscripten_num_logical_cores: function () {
    var threads = Atomics.load(new Int32Array(wasmMemory.buffer), (_sandcodec_host_words() >> 2) + 2);
    return threads > 0 ? threads : 1;
  },
  // Runs on the host's thread: the run's status, whichever thread main() ended on.
  sandcodec_run_ended__proxy: 'async',
  sandcodec_run_ended: function (status) {
    if (Module['onRunEnded']) Module['onRunEnded'](status);
  },
#else
  // Polled by fftools on every turn of the transcode loop and by FFmpeg's I/O interrupt callback.
  // `Module.cancelFlag` is an Int32Array (over a SharedArrayBuffer when another thread may set it).
  sandcodec_cancel_requested: function () {
    var flag = Module['cancelFlag'];
    return flag ? (Atomics.load(flag, 0) !== 0 ? 1 : 0) : 0;
  },
  // The heap's ceiling, read by emscripten_resize_heap: the job's budget (`Module.heapMax`, also the
  // maximum of the memory the host passes in), so the heap grows to exactly the budget, not past it
  // and not short of it.
  emscripten_get_heap_max: function () {
    return Module['heapMax'] || 2147483648;
  },
  // glue/jpeg-decode.c's strips of decoded rows, for the host to place (`Module.jpegRows`); with
  // no receiver the rows have nowhere to go and the decode stops.
  sandcodec_jpeg_rows: function (offset, src, stride, width, count) {
    var rows = Module['jpegRows'];
    return rows ? rows(offset >>> 0, src >>> 0, stride >>> 0, width >>> 0, count >>> 0) : 1;
  },
#endif
});
