/**
 * A package is a directory: it is built under a temporary name beside its destination and renamed
 * into place only when every segment and manifest is written, so a failed or cancelled job leaves
 * nothing where a CDN sync would pick it up. A previous package at the destination is replaced.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { IOError } from '../errors.js';

export class PendingDir {
  private createdParents: string[] = [];

  private constructor(
    readonly finalPath: string,
    readonly tempPath: string,
  ) {}

  static async create(finalPath: string): Promise<PendingDir> {
    const abs = resolve(finalPath);
    const parent = dirname(abs);
    const pending = new PendingDir(abs, join(parent, `.${basename(abs)}.${randomBytes(4).toString('hex')}.part`));
    try {
      const first = await mkdir(parent, { recursive: true });
      if (first) for (let d = parent; d.length >= first.length; d = dirname(d)) pending.createdParents.unshift(d);
      await mkdir(pending.tempPath);
    } catch (err) {
      await pending.rollback();
      throw new IOError(`cannot create the output directory ${abs}: ${(err as Error).message}`, {}, { cause: err });
    }
    return pending;
  }

  /** A path inside the temporary directory. */
  path(...parts: string[]): string {
    return join(this.tempPath, ...parts);
  }

  async commit(): Promise<void> {
    const old = `${this.tempPath}.old`;
    let moved = false;
    try {
      if (await exists(this.finalPath)) {
        await rename(this.finalPath, old);
        moved = true;
      }
      await rename(this.tempPath, this.finalPath);
    } catch (err) {
      if (moved) await rename(old, this.finalPath).catch(() => {});
      await this.rollback();
      throw new IOError(`cannot move the package into place: ${(err as Error).message}`, {}, { cause: err });
    }
    if (moved) await rm(old, { recursive: true, force: true });
  }

  async rollback(): Promise<void> {
    await rm(this.tempPath, { recursive: true, force: true });
    for (const dir of this.createdParents.reverse()) await rmdir(dir).catch(() => {});
    this.createdParents = [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
