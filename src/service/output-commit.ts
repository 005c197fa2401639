/**
 * A job's outputs leave its private work folder only when the whole job has succeeded, and
 * exactly once even when the job runs again after a crash:
 * - to a folder under the output root, the files are copied into a staged folder beside the
 *   destination, a marker naming the job is written into it, and the staged folder is renamed
 *   into place. The rename is the commit: before it nothing is visible, after it everything is.
 *   A retried job that finds the destination already holding its own marker has committed
 *   before (it died between the rename and the acknowledgement) and does not write again.
 * - to URLs, each file is uploaded (PUT or POST) after the job succeeded; a retried job uploads
 *   the same bytes to the same URLs, which a PUT makes idempotent.
 */
import { cp, mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { ioError } from '../call/outputs.js';
import { isStagedName, stagedName } from '../call/staging.js';
import { IOError, OptionsError } from '../errors.js';
import type { JobOutput } from './job-spec.js';
import { outputUrl, type TransferOptions, uploadFile } from './url-io.js';

/** The marker a committed job folder holds; it is how a retried job knows it committed before. */
export const COMMIT_MARKER = '.sandcodec-job.json';

export interface OutputFile {
  /** Path relative to the job's outputs, with `/` separators. */
  name: string;
  size: number;
}

/** Every file under `dir`, relative, sorted; staged leftovers are not outputs. */
export async function listOutputs(dir: string): Promise<OutputFile[]> {
  const out: OutputFile[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || isStagedName(e.name)) continue;
    const path = join(e.parentPath, e.name);
    out.push({ name: relative(dir, path).split(sep).join('/'), size: (await stat(path)).size });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface CommitContext {
  jobId: string;
  outputRoot: string | undefined;
  transfer: TransferOptions;
}

/** Where the outputs went: the folder (relative to the root) or the URL target, without query strings. */
export async function commitOutputs(staged: string, output: JobOutput, files: OutputFile[], ctx: CommitContext): Promise<{ committed: boolean }> {
  if ('dir' in output) return commitDir(staged, output.dir, ctx);
  await uploadAll(staged, output, files, ctx.transfer);
  return { committed: true };
}

/** The destination folder for `rel`, inside the root even through symbolic links. */
export async function destination(root: string, rel: string): Promise<string> {
  const realRoot = await realpath(root).catch((err) => {
    throw ioError(`output root ${root}`, err);
  });
  const target = join(realRoot, rel);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true }).catch((err) => {
    throw ioError(`creating ${relative(realRoot, parent) || '.'} under the output root`, err);
  });
  const realParent = await realpath(parent);
  if (realParent !== realRoot && !realParent.startsWith(realRoot + sep)) {
    throw new OptionsError('output.dir', `${rel} resolves outside the output root`);
  }
  return join(realParent, basename(target));
}

async function commitDir(staged: string, rel: string, ctx: CommitContext): Promise<{ committed: boolean }> {
  if (!ctx.outputRoot) throw new OptionsError('output.dir', 'this worker has no output root (start it with --output-root DIR)');
  const target = await destination(ctx.outputRoot, rel);
  const owner = await markerOf(target);
  if (owner === ctx.jobId) return { committed: false };
  if (owner !== null) throw new OptionsError('output.dir', `${rel} already exists; a job writes a new folder and never replaces one`);
  const parent = dirname(target);
  const stem = basename(target);
  // What an earlier attempt of this job left staged (it was killed before its rename): the job
  // runs one attempt at a time, so every staged folder of this name is a dead attempt's.
  for (const name of await readdir(parent)) {
    if (isStagedName(name) && name.startsWith(`.${stem}.sandcodec-`)) await rm(join(parent, name), { recursive: true, force: true });
  }
  const stage = join(parent, stagedName(stem));
  try {
    await cp(staged, stage, { recursive: true, errorOnExist: true, force: false });
    await writeFile(join(stage, COMMIT_MARKER), `${JSON.stringify({ job: ctx.jobId, committed: new Date().toISOString() })}\n`, { flag: 'wx' });
    await rename(stage, target);
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    // Another job took the name between the check and the rename (rename onto a folder with
    // files fails): theirs stays.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST')
      throw new OptionsError('output.dir', `${rel} already exists; a job writes a new folder and never replaces one`);
    throw ioError(`committing the outputs to ${rel}`, err);
  }
  return { committed: true };
}

/** The job id in a folder's commit marker; null when the folder does not exist, '' when it is not a job's. */
async function markerOf(dir: string): Promise<string | null> {
  try {
    await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(`output folder ${dir}`, err);
  }
  try {
    const marker = JSON.parse(await readFile(join(dir, COMMIT_MARKER), 'utf8')) as { job?: unknown };
    return typeof marker.job === 'string' ? marker.job : '';
  } catch {
    return '';
  }
}

/** Uploads with a few at a time: enough to hide latency, few enough not to flood the target. */
async function uploadAll(staged: string, output: { url: string; method: 'PUT' | 'POST' }, files: OutputFile[], transfer: TransferOptions): Promise<void> {
  const queue = [...files];
  const lanes = Array.from({ length: Math.min(4, queue.length) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      transfer.signal?.throwIfAborted();
      await uploadFile(outputUrl(output.url, f.name), join(staged, ...f.name.split('/')), { ...transfer, method: output.method });
    }
  });
  const settled = await Promise.allSettled(lanes);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new IOError(String(failed.reason));
}
