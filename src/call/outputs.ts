/**
 * Outputs are written under a temporary name beside their destination and renamed into place
 * only when the whole job succeeded, so a failed or cancelled job never leaves a partial file
 * where a caller (or a CDN sync) would pick it up.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { IOError } from '../errors.js';

export interface PendingFile {
  finalPath: string;
  tempPath: string;
}

export class OutputSet {
  readonly files: PendingFile[] = [];
  private createdDirs: string[] = [];

  /** Reserves a destination; the worker writes to `tempPath`. */
  async add(finalPath: string): Promise<PendingFile> {
    const abs = resolve(finalPath);
    await this.ensureDir(dirname(abs));
    const file = { finalPath: abs, tempPath: join(dirname(abs), `.${basename(abs)}.${randomBytes(4).toString('hex')}.part`) };
    this.files.push(file);
    return file;
  }

  private async ensureDir(dir: string): Promise<void> {
    try {
      const first = await mkdir(dir, { recursive: true });
      // mkdir reports the topmost directory it made; remember the whole chain, deepest last.
      if (first) {
        const chain: string[] = [];
        for (let d = dir; d.length >= first.length; d = dirname(d)) chain.unshift(d);
        this.createdDirs.push(...chain);
      }
    } catch (err) {
      throw new IOError(`cannot create the output directory ${dir}: ${(err as Error).message}`, {}, { cause: err });
    }
  }

  async commit(): Promise<void> {
    try {
      for (const f of this.files) await rename(f.tempPath, f.finalPath);
    } catch (err) {
      await this.rollback();
      throw new IOError(`cannot move outputs into place: ${(err as Error).message}`, {}, { cause: err });
    }
  }

  /** Deletes temporary files and any directory this set created, leaving no trace of the job. */
  async rollback(): Promise<void> {
    await Promise.all(this.files.map((f) => rm(f.tempPath, { force: true })));
    for (const dir of this.createdDirs.reverse()) {
      // Only removes what is still empty: a directory the caller filled meanwhile stays.
      await rmdir(dir).catch(() => {});
    }
    this.createdDirs = [];
  }
}
