/**
 * The names sandcodec gives the files it stages (outputs before they are committed, spooled
 * input streams), and the sweep that removes stale ones. A staged name carries its owner — a
 * short tag of the host and the process id — so a sweep never removes what a live process on
 * this host is still writing, and removes what a killed one left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

const HOST = createHash('sha1').update(hostname()).digest('hex').slice(0, 6);

/** `<stem>.sandcodec-<host>-<pid>-<random>.part`, the stem cut so the name stays under 255 bytes. */
const STAGED = /\.sandcodec-([0-9a-f]{6})-(\d+)-[0-9a-f]{8}\.part$/;

/** A hidden name beside (or inside) a destination, owned by this process. */
export function stagedName(stem: string): string {
  const safe = Buffer.from(stem)
    .subarray(0, 160)
    .toString()
    .replace(/\uFFFD+$/, '');
  return `.${safe}.sandcodec-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}.part`;
}

export function isStagedName(name: string): boolean {
  return STAGED.test(name);
}

export interface SweepOptions {
  /** Entries older than this are removed whoever made them (default 24 h). */
  maxAgeMs?: number;
}

export const DEFAULT_SWEEP_AGE_MS = 24 * 3600 * 1000;

/**
 * Removes the stale staged files and directories in `dir` (not recursively): those of processes
 * of this host that are gone, and any older than `maxAgeMs`. Returns the paths removed. A folder
 * that does not exist or cannot be read has nothing to sweep.
 */
export async function sweepStaging(dir: string, options: SweepOptions = {}): Promise<string[]> {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_SWEEP_AGE_MS;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = STAGED.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    const pid = Number(m[2]);
    const mine = m[1] === HOST;
    if (mine && pid === process.pid) continue;
    let age: number;
    try {
      age = Date.now() - (await lstat(path)).mtimeMs;
    } catch {
      continue;
    }
    if (age <= maxAgeMs && (!mine || alive(pid))) continue;
    try {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Another sweep (or its owner) got there first, or it is not ours to remove: leave it.
    }
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
