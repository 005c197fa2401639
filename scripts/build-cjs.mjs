#!/usr/bin/env node
// The CommonJS entry (`require('sandcodec')`): the compiled ES modules of the main thread's side
// (dist/index.js and what it imports) bundled by esbuild into dist/cjs/index.js, with the
// declarations copied beside it under a `{"type": "commonjs"}` package.json so TypeScript reads
// them as CommonJS too. Dependencies stay require()d from node_modules; the worker thread still
// runs the ES modules in dist/worker (it is loaded by file, not bundled).
//
// Every `import.meta.url` becomes the URL the module has in dist/, computed from the bundle's own
// place: the engine finds its worker script, kernels and cores relative to its modules, and they
// must resolve to the same files from either entry.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'cjs');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// Defined once at the top of the bundle, where `require` is still the module's own (a module may
// name a `require` of its own, made with createRequire from the very URL being replaced). When an
// app's bundler takes this bundle into its own, the modules are not beside it any more: the URL
// is then the app bundle's, which is where util/runtime-dir.ts looks for the runtime copy.
const URL_OF = '__sandcodecModuleUrl';
const banner = `const ${URL_OF} = (path) => { const file = require('node:path').join(__dirname, path); return require('node:url').pathToFileURL(require('node:fs').existsSync(file) ? file : __filename).href; };`;

const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta.url')) return undefined;
      const fromBundle = relative(out, args.path).split(sep).join('/');
      return { contents: source.replaceAll('import.meta.url', `${URL_OF}(${JSON.stringify(fromBundle)})`), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(dist, 'index.js')],
  outfile: join(out, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  plugins: [importMetaUrl],
  banner: { js: banner },
  logLevel: 'warning',
  legalComments: 'none',
});
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);

// The declarations, as they are: under the CommonJS package.json above they describe the bundle.
function copyDeclarations(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) {
      if (source === out) continue;
      copyDeclarations(source, join(to, entry.name));
    } else if (entry.name.endsWith('.d.ts')) {
      mkdirSync(to, { recursive: true });
      copyFileSync(source, join(to, entry.name));
    }
  }
}
copyDeclarations(dist, out);
console.log(`cjs: ${relative(root, join(out, 'index.js'))}`);
