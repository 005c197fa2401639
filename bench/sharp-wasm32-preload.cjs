// Preloaded with `node --require` so that sharp cannot find its native binding and falls back to
// @img/sharp-wasm32: the same sharp API, libvips compiled to WebAssembly.
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (/^@img\/sharp-(linux|linuxmusl|darwin|win32)-/.test(request) || /sharp-linux-x64.*\.node$/.test(request)) {
    const err = new Error(`hidden for the wasm32 benchmark: ${request}`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
