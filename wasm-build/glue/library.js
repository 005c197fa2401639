// Functions the core imports from its host (linked with --js-library). They read what the host
// put on the module object before the run, so one compiled module serves every job.
mergeInto(LibraryManager.library, {
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
});
