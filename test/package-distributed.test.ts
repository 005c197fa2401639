/**
 * A package plan is plain data that travels: two other processes each run half of its jobs on
 * their own engines (`runChunk`), a third stitches their results (`stitch`), and the package is
 * byte for byte the one a single engine makes. Cancel, progress and failure hold for the jobs of
 * one call: an abort stops every job, progress sums them, and a failing chunk fails the call and
 * leaves nothing behind.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkResult, createEngine, type Engine, type PackageJob, type PackagePlan, type PackageResult, type SandcodecError } from '../dist/index.js';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';
import { walk } from './helpers/mp4.js';

const run = promisify(execFile);

let engine: Engine;
let dir: string;
let source: string;
const OPTIONS = { video: ['360p', '240p'], audio: ['aac-64'], segmentDuration: 2, chunkSeconds: 2 };

/** A separate Node process running `body` (an async function body) with `engine` and `args` in scope. */
async function inProcess(body: string, args: unknown): Promise<unknown> {
  const script = join(dir, `p-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(
    script,
    `import { createEngine } from ${JSON.stringify(join(repoRoot, 'dist', 'index.js'))};
const args = JSON.parse(process.argv[2]);
const engine = await createEngine({ workers: 1 });
try {
  const out = await (async () => { ${body} })();
  process.stdout.write(JSON.stringify(out));
} finally {
  await engine.close();
}
`,
  );
  const { stdout } = await run(process.execPath, [script, JSON.stringify(args)], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout);
}

/** Every file of a package, relative path → bytes. */
async function files(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(path.slice(root.length + 1), await readFile(path));
  }
  return out;
}

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  source = join(dir, 'source.mp4');
  await engine.generateVideo({ seconds: 9, width: 640, height: 360, frameRate: 25, output: source });
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

describe('a plan run on several engines', () => {
  it('two processes run the chunks, a third stitches them: the package one engine makes, byte for byte', async () => {
    const plan = (await engine.planPackage({ path: source }, OPTIONS)) as PackagePlan;
    // Plain data: it survives JSON.
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    const ids = plan.jobs.map((j) => j.id);
    expect(ids.filter((id) => id.startsWith('v')).length).toBeGreaterThanOrEqual(3);
    const halves = [ids.filter((_, i) => i % 2 === 0), ids.filter((_, i) => i % 2 === 1)];
    const chunksDir = join(dir, 'chunks');
    const results = (
      await Promise.all(
        halves.map(
          (jobs) =>
            inProcess(
              `const out = [];
for (const job of args.jobs) out.push(await engine.runChunk({ path: args.source }, args.plan, job, { outputDir: args.dir }));
return out;`,
              { jobs, plan, source, dir: chunksDir },
            ) as Promise<ChunkResult[]>,
        ),
      )
    ).flat();
    expect(results.map((r) => r.job).sort()).toEqual([...ids].sort());
    const stitched = (await inProcess('return engine.stitch(args.plan, args.results, { outputDir: args.out });', {
      plan,
      results,
      out: join(dir, 'stitched'),
    })) as PackageResult;

    const single = await engine.package({ path: source }, { ...OPTIONS, outputDir: join(dir, 'single') });
    expect(stitched.video.map((t) => [t.id, t.segments.length])).toEqual(single.video.map((t) => [t.id, t.segments.length]));
    const [a, b] = [await files(join(dir, 'stitched')), await files(join(dir, 'single'))];
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [path, bytes] of a) expect(Buffer.compare(bytes, b.get(path)!), path).toBe(0);
  });

  it('cuts a plan for the workers it will be spread over, here or elsewhere', async () => {
    const here = await engine.planPackage({ path: source }, OPTIONS);
    const wide = await engine.planPackage({ path: source }, { ...OPTIONS, workers: 64 });
    // More workers than chunks: the rungs of each chunk are split between jobs.
    expect(wide.jobs.length).toBeGreaterThan(here.jobs.length);
    expect(wide.jobs.filter((j) => j.kind === 'video').every((j) => j.renditions.length === 1)).toBe(true);
    const err = await engine.planPackage({ path: source }, { ...OPTIONS, workers: 0 }).then(
      () => undefined,
      (e: unknown) => e as SandcodecError,
    );
    expect(err?.details.option).toBe('workers');
  });

  it('refuses a job that is not in the plan, a plan for another input, and results missing a job', async () => {
    const plan = await engine.planPackage({ path: source }, OPTIONS);
    const err = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as SandcodecError,
      );
    expect((await err(engine.runChunk({ path: source }, plan, 'v99', { outputDir: join(dir, 'x') })))?.details.option).toBe('job');
    const other = (await engine.generateVideo({ seconds: 2, width: 320, height: 180 })).bytes!;
    expect((await err(engine.runChunk(other, plan, 'v0', { outputDir: join(dir, 'x') })))?.details.option).toBe('plan');
    expect((await err(engine.stitch({ version: 2 } as never, [], { outputDir: join(dir, 'x') })))?.details.option).toBe('plan');
    // A plan changed on its way: a rendition that names a folder outside, a filter option in a
    // size, another encoder preset, a chunk one frame longer. runChunk and stitch plan again and
    // refuse what they would not make.
    const changed = [
      { ...plan, video: plan.video.map((t, i) => (i === 0 ? { ...t, id: '..' } : t)) },
      { ...plan, video: plan.video.map((t, i) => (i === 0 ? { ...t, width: '640,movie=/job/in0.mp4' } : t)) },
      { ...plan, x264Preset: 'placebo' },
      { ...plan, request: { ...plan.request, x264Preset: 'placebo' }, x264Preset: 'placebo' },
      { ...plan, videoEncoder: 'libvpx' },
      { ...plan, jobs: plan.jobs.map((j) => (j.id === 'v0' && j.kind === 'video' ? { ...j, frames: (j.frames ?? 0) + 1 } : j)) },
    ] as unknown as PackagePlan[];
    for (const bad of changed) {
      const a = await err(engine.runChunk({ path: source }, bad, 'v0', { outputDir: join(dir, 'x') }));
      expect([a?.code, a?.details.option]).toEqual(['E_OPTIONS', 'plan']);
      const b = await err(engine.stitch(bad, [], { outputDir: join(dir, 'x') }));
      expect([b?.code, b?.details.option]).toEqual(['E_OPTIONS', 'plan']);
    }
    // A plan made for a core with another H.264 encoder (the lgpl core's OpenH264): its video
    // jobs are refused as unsupported here, before anything runs.
    const foreign = await err(engine.runChunk({ path: source }, { ...plan, videoEncoder: 'libopenh264' }, 'v0', { outputDir: join(dir, 'x') }));
    expect(foreign?.code).toBe('E_UNSUPPORTED');
    expect(foreign?.message).toMatch(/libopenh264.*libx264/);
    // A source that claims a year is refused under the duration limit before any chunk is cut.
    const year = { ...plan, source: { ...plan.source, streams: plan.source.streams.map((st) => ({ ...st, duration: 3.2e7 })) } };
    const long = await err(engine.stitch(year, [], { outputDir: join(dir, 'x') }));
    expect([long?.code, long?.details.limit]).toEqual(['E_LIMIT', 'maxDurationSeconds']);
    const missing = await err(engine.stitch(plan, [], { outputDir: join(dir, 'x') }));
    expect(missing?.code).toBe('E_INPUT_INVALID');
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('the jobs of one call', () => {
  it('report one progress for all of them, from 0 to 1 and never backwards', async () => {
    const ratios: number[] = [];
    await engine.package({ path: source }, { ...OPTIONS, outputDir: join(dir, 'progress'), onProgress: (p) => ratios.push(p.ratio) });
    expect(ratios.length).toBeGreaterThan(3);
    expect(ratios.at(-1)).toBe(1);
    for (let i = 1; i < ratios.length; i++) expect(ratios[i]!).toBeGreaterThanOrEqual(ratios[i - 1]!);
    // Several jobs ran at once: progress moved before the first chunk could have finished alone.
    expect(ratios.filter((r) => r > 0 && r < 1).length).toBeGreaterThan(1);
  });

  it('runChunk reports its own job from 0 to 1, with the media time of that job', async () => {
    const plan = await engine.planPackage({ path: source }, OPTIONS);
    const job = plan.jobs.find((j): j is Extract<PackageJob, { kind: 'video' }> => j.kind === 'video' && j.frames !== null)!;
    const events: Array<{ phase: string; ratio: number; seconds: number }> = [];
    await engine.runChunk({ path: source }, plan, job.id, { outputDir: join(dir, 'one-chunk'), onProgress: (p) => events.push({ ...p }) });
    const chunk = events.filter((e) => e.phase === 'chunk');
    expect(chunk.filter((e) => e.ratio > 0 && e.ratio < 1).length).toBeGreaterThan(0);
    expect(chunk.at(-1)?.ratio).toBe(1);
    // Its media time is the chunk's, not the source's.
    const length = (job.frames! * plan.rate!.den) / plan.rate!.num;
    for (const e of chunk) expect(e.seconds).toBeLessThanOrEqual(length + 0.1);
    expect(chunk.at(-1)?.seconds).toBeCloseTo(length, 3);
  });

  it('hold no more places in the queue than there are workers, however many chunks', async () => {
    // One worker and no queue beyond it: a plan of many jobs still runs, one after another.
    const narrow = await createEngine({ workers: 1, maxQueue: 0 });
    try {
      const out = await narrow.package({ path: source }, { ...OPTIONS, segmentDuration: 1, chunkSeconds: 1, outputDir: join(dir, 'narrow') });
      expect(out.video.map((t) => t.segments.length)).toEqual([9, 9]);
      expect(narrow.inFlight).toBe(0);
    } finally {
      await narrow.close();
    }
  });

  it('an abort stops every job and leaves nothing', async () => {
    const controller = new AbortController();
    const out = join(dir, 'aborted');
    const call = engine.package({ path: source }, { ...OPTIONS, outputDir: out, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const err = await call.then(
      () => undefined,
      (e: unknown) => e as SandcodecError,
    );
    expect(err?.code).toBe('E_ABORTED');
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('.sandcodec-'))).toEqual([]);
    // Every worker is free again.
    expect(engine.inFlight).toBe(0);
  });

  it('a chunk that fails fails the call, stops its siblings, and leaves nothing', async () => {
    const bytes = new Uint8Array(await readFile(source));
    // The second half of the pictures is noise (the index is intact): the chunks that read it
    // cannot decode, the first can.
    const mdat = walk(bytes).find((b) => b.type === 'mdat')!;
    for (let i = mdat.body + Math.floor((mdat.end - mdat.body) * 0.55); i < mdat.end; i++) bytes[i] = (i * 7919) & 0xff;
    const out = join(dir, 'failed');
    const err = await engine.package(bytes, { ...OPTIONS, outputDir: out }).then(
      () => undefined,
      (e: unknown) => e as SandcodecError,
    );
    expect(err?.code).toBe('E_INPUT_INVALID');
    expect(existsSync(out)).toBe(false);
    expect(engine.inFlight).toBe(0);
  });
});
