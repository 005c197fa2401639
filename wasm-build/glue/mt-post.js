// Linked with --post-js into multithreaded cores only: it runs inside the module's scope.
if (!ENVIRONMENT_IS_PTHREAD) {
  // Emscripten rethrows a thread's trap from the worker's error handler, which would end the host's
  // own thread. The host takes it instead (`onThreadError`), fails the run and ends its threads.
  var sandcodecLoadWorker = PThread.loadWasmModuleToWorker;
  PThread.loadWasmModuleToWorker = function (worker, onFinishedLoading) {
    sandcodecLoadWorker(worker, onFinishedLoading);
    worker.onerror = function (e) {
      if (Module['onThreadError']) Module['onThreadError'](e);
    };
  };
  // Every thread of this instance ends: after the run, or when the host gives up on it.
  Module['terminateThreads'] = function () {
    PThread.terminateAllThreads();
  };
}
