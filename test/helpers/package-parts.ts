/**
 * One plan's jobs, run once on one engine: the parts several stitches of a test share (clear,
 * protected, single-file, with subtitles), so each variant differs only in its stitch.
 */
import { join } from 'node:path';
import type { ChunkResult, Engine, PackagePlan, PlanOptions } from '../../dist/index.js';

export async function encodeParts(engine: Engine, source: string, options: PlanOptions, dir: string): Promise<{ plan: PackagePlan; results: ChunkResult[] }> {
  const plan = await engine.planPackage({ path: source }, options);
  const results: ChunkResult[] = [];
  for (const job of plan.jobs) results.push(await engine.runChunk({ path: source }, plan, job.id, { outputDir: join(dir, 'parts') }));
  return { plan, results };
}
