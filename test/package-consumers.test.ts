/**
 * The package as a user gets it: `npm pack`, installed into a fresh project with npm, then used by
 * an ES module, a CommonJS script and TypeScript (strict, `node16` resolution, both module kinds,
 * compiled against the installed declarations), and an app bundled by esbuild with the runtime
 * copied beside it (`copyRuntime`), run from a folder with no node_modules: each probes a FLAC,
 * transcodes it to Opus and probes what it made, and checks that a failure is a SandcodecError
 * of its own module system.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const FLAC = join(repoRoot, 'test', 'fixtures', 'audio', 'ambi_lunar_land.flac');

/** What every consumer prints: the same checks, whichever way it loaded the package. */
interface Report {
  version: string;
  probe: { format: string; duration: number };
  transcode: { codec: string; bytes: number; duration: number };
  missingFile: { code: string; isSandcodecError: boolean };
}

/** What every consumer does once it has the package, with `engine` made and `version` read. */
const BODY = `  const probe = await engine.probe({ path: process.argv[2] });
  const out = await engine.transcode({ path: process.argv[2] }, { preset: 'opus-96' });
  const made = await engine.probe(out.bytes);
  const err = await engine.probe({ path: process.argv[2] + '.missing' }).catch((e) => e);
  console.log(JSON.stringify({
    version,
    probe: { format: probe.format, duration: probe.duration },
    transcode: { codec: out.codec, bytes: out.bytes.length, duration: made.duration },
    missingFile: { code: err.code, isSandcodecError: err instanceof SandcodecError },
  }));
`;

const ESM = `import { createEngine, SandcodecError } from 'sandcodec';
import pkg from 'sandcodec/package.json' with { type: 'json' };
const { version } = pkg;
const engine = await createEngine({ workers: 1 });
try {
${BODY}} finally {
  await engine.close();
}
`;

const CJS = `const { createEngine, SandcodecError } = require('sandcodec');
const { version } = require('sandcodec/package.json');
(async () => {
  const engine = await createEngine({ workers: 1 });
  try {
${BODY}  } finally {
    await engine.close();
  }
})().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
`;

/** The same program in TypeScript, typed: compiled as an ES module (.mts) and as CommonJS (.cts). */
const tsProgram = (load: string, version: string) => `${load}
async function main(): Promise<void> {
  const file: string = process.argv[2]!;
  const engine: Engine = await createEngine({ workers: 1 });
  try {
    const probe: ProbeResult = await engine.probe({ path: file });
    const out: TranscodeResult = await engine.transcode({ path: file }, { preset: 'opus-96' });
    const made = await engine.probe(out.bytes!);
    const err: unknown = await engine.probe({ path: file + '.missing' }).catch((e: unknown) => e);
    const code: ErrorCode | undefined = err instanceof SandcodecError ? err.code : undefined;
    console.log(JSON.stringify({
      version: ${version},
      probe: { format: probe.format, duration: probe.duration },
      transcode: { codec: out.codec, bytes: out.bytes!.length, duration: made.duration },
      missingFile: { code, isSandcodecError: err instanceof SandcodecError },
    }));
  } finally {
    await engine.close();
  }
}
`;

const MTS = `${tsProgram(
  `import { readFileSync } from 'node:fs';
import { createEngine, type Engine, type ErrorCode, type ProbeResult, SandcodecError, type TranscodeResult } from 'sandcodec';`,
  `(JSON.parse(readFileSync(new URL(import.meta.resolve('sandcodec/package.json')), 'utf8')) as { version: string }).version`,
)}await main();
`;

const CTS = `${tsProgram(
  `import { createEngine, type Engine, type ErrorCode, type ProbeResult, SandcodecError, type TranscodeResult } from 'sandcodec';
import pkg = require('sandcodec/package.json');`,
  'pkg.version',
)}main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
`;

let dir: string;
let project: string;
let packageVersion: string;

beforeAll(async () => {
  dir = await makeTempDir('sandcodec-pack-');
  packageVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  // What `npm publish` would upload (dist is built by the test script before the tests run).
  execFileSync(NPM, ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: repoRoot, stdio: 'pipe' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  project = join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2)}\n`);
  const install = spawnSync(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: project, encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`npm install of the packed tarball failed:\n${install.stdout}\n${install.stderr}`);
  copyFileSync(FLAC, join(project, 'in.flac'));
}, 180_000);

afterAll(() => removeTempDir(dir));

function run(script: string): Report {
  const r = spawnSync(process.execPath, [script, 'in.flac'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${script} exited ${r.status}:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Report;
}

function expectReport(report: Report): void {
  expect(report.version).toBe(packageVersion);
  expect(report.probe.format).toBe('flac');
  expect(report.probe.duration).toBeCloseTo(7.394, 2);
  expect(report.transcode.codec).toBe('opus');
  expect(report.transcode.bytes).toBeGreaterThan(10_000);
  expect(report.transcode.duration).toBeCloseTo(report.probe.duration, 1);
  expect(report.missingFile).toEqual({ code: 'E_INPUT_INVALID', isSandcodecError: true });
}

describe('the packed package in a fresh project', () => {
  it('installs without install scripts and without @ffmpeg/core (an optional peer)', () => {
    const installed = join(project, 'node_modules', 'sandcodec');
    expect(existsSync(join(installed, 'dist', 'cjs', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'wasm-build', 'dist', 'gpl-st', 'ffmpeg-core.wasm'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', '@ffmpeg', 'core'))).toBe(false);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts?.[hook]).toBeUndefined();
  });

  it('an ES module imports it, probes and transcodes', () => {
    writeFileSync(join(project, 'esm.mjs'), ESM);
    expectReport(run('esm.mjs'));
  }, 120_000);

  it('a CommonJS script requires it, probes and transcodes', () => {
    writeFileSync(join(project, 'cjs.cjs'), CJS);
    expectReport(run('cjs.cjs'));
  }, 120_000);

  it('TypeScript (strict, node16) compiles against its declarations as ESM and as CommonJS, and runs', () => {
    writeFileSync(join(project, 'typed.mts'), MTS);
    writeFileSync(join(project, 'typed.cts'), CTS);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'node16',
          moduleResolution: 'node16',
          strict: true,
          resolveJsonModule: true,
          // The installed declarations are checked too, not skipped.
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
          outDir: 'out',
        },
        files: ['typed.mts', 'typed.cts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    expectReport(run(join('out', 'typed.mjs')));
    expectReport(run(join('out', 'typed.cjs')));
  }, 120_000);

  it('bundled by esbuild (ESM and CommonJS) with copyRuntime beside the bundle, it runs where no node_modules is', async () => {
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    writeFileSync(join(project, 'app.mjs'), ESM);
    writeFileSync(join(project, 'app.cjs'), CJS);
    const out = join(project, 'bundle');
    // A bundled piscina looks for its worker beside the bundle (its __dirname): an ES module
    // bundle defines __dirname (and require) in a banner, as esbuild's users usually do.
    const banner = [
      "import { createRequire as bannerRequire } from 'node:module';",
      "import { fileURLToPath as bannerPath } from 'node:url';",
      'const require = bannerRequire(import.meta.url);',
      'const __filename = bannerPath(import.meta.url);',
      "const __dirname = bannerPath(new URL('.', import.meta.url));",
    ].join(' ');
    const common = { bundle: true, platform: 'node', target: 'node20', absWorkingDir: project, logLevel: 'silent' } as const;
    await esbuild.build({ ...common, entryPoints: ['app.mjs'], format: 'esm', outfile: join(out, 'app.mjs'), banner: { js: banner } });
    await esbuild.build({ ...common, entryPoints: ['app.cjs'], format: 'cjs', outfile: join(out, 'app.cjs') });
    const copy = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require('sandcodec').copyRuntime(${JSON.stringify(out)})))`], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(copy.stderr).toBe('');
    const copied = JSON.parse(copy.stdout) as { dir: string; files: number };
    expect(copied.dir).toBe(join(out, 'sandcodec'));
    // Deployed alone: nothing of the project (its node_modules) is above or beside it.
    const deployed = join(dir, 'deployed');
    cpSync(out, deployed, { recursive: true });
    copyFileSync(FLAC, join(deployed, 'in.flac'));
    for (const script of ['app.mjs', 'app.cjs']) {
      const r = spawnSync(process.execPath, [script, 'in.flac'], { cwd: deployed, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${script}: ${r.stderr}`).toBe(0);
      expectReport(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Report);
    }
    // Again, from the installed CLI: refused; with --force it replaces the first copy and nothing else.
    const cli = join(project, 'node_modules', 'sandcodec', 'dist', 'cli', 'main.js');
    const again = spawnSync(process.execPath, [cli, 'copy-runtime', out], { cwd: project, encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/sandcodec exists \(overwrite: true replaces an earlier copy\)/);
    const replaced = spawnSync(process.execPath, [cli, 'copy-runtime', out, '--force', '--json'], { cwd: project, encoding: 'utf8' });
    expect(replaced.status, replaced.stderr).toBe(0);
    expect((JSON.parse(replaced.stdout) as { files: number }).files).toBe(copied.files);
    expect(readdirSync(out).sort()).toEqual(['app.cjs', 'app.mjs', 'sandcodec', 'worker.js']);
  }, 180_000);

  it("core 'stock' without @ffmpeg/core installed is an options error that says how to install it", () => {
    writeFileSync(
      join(project, 'stock.mjs'),
      `import { createEngine } from 'sandcodec';
const err = await createEngine({ core: 'stock' }).then((e) => e.close(), (e) => e);
console.log(JSON.stringify({ code: err?.code, message: err?.message }));
`,
    );
    const r = spawnSync(process.execPath, ['stock.mjs'], { cwd: project, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { code: string; message: string };
    expect(out.code).toBe('E_OPTIONS');
    expect(out.message).toMatch(/npm install @ffmpeg\/core@0\.12\.10/);
  });
});
