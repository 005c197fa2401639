/**
 * One output transaction per call: every file and directory a call writes is staged under a
 * hidden name beside its destination (same filesystem, so committing is a rename) and put in
 * place only when the whole call succeeded — all of it, or none of it.
 *
 * The rule that keeps a user's data safe: a call adds its own files and never deletes or replaces
 * anything it did not create. An existing file at an output path is refused unless the caller
 * asked to overwrite; a directory output (a package, thumbnails) adds its entries into an
 * existing folder, and replaces entries only with overwrite *and* only those a previous call of
 * the same kind recorded in its marker file. A failed, aborted or killed call leaves staged names
 * only, which `sweepStaging` removes.
 */
import { link, lstat, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { InternalError, IOError, OptionsError, SandcodecError } from '../errors.js';
import { stagedName } from './staging.js';

const OVERWRITE_HINT = 'pass overwrite: true (--force on the command line) to replace it';

/** A file staged for one destination; `tempPath` is where the job writes. */
export interface StagedFile {
  readonly finalPath: string;
  /** The current staged version; `restage` makes a new one (e.g. a retagged copy). */
  readonly tempPath: string;
  /** A fresh staged path for the same destination; the previous one is dropped at commit. */
  restage(): string;
}

/** A directory output (package, thumbnails): entries are built in `stagePath`. */
export interface StagedDir {
  readonly finalPath: string;
  readonly stagePath: string;
  /** A path inside the staging directory. */
  path(...parts: string[]): string;
  /**
   * Declares the top-level entries the call will write, so a conflict with what is already in
   * the destination fails now, before any work, instead of at commit.
   */
  claim(entries: readonly string[]): Promise<void>;
}

interface FileRecord extends StagedFile {
  temps: string[];
}

interface DirRecord extends StagedDir {
  option: string;
  kind: string;
  /** 'new': the whole staged directory becomes the destination; 'into': entries move into it. */
  mode: 'new' | 'into';
  /** Entries a previous call of this kind recorded (replaceable with overwrite). */
  previous: Set<string>;
}

/** Undo steps of a commit in progress, run in reverse if a later step fails. */
type Undo = () => Promise<void>;

export class OutputTransaction {
  private readonly files: FileRecord[] = [];
  private readonly dirs: DirRecord[] = [];
  private readonly streams: Array<{ tempPath: string; stream: PassThrough }> = [];
  /** Directories this transaction created (deepest last), removed on rollback while empty. */
  private readonly createdDirs: string[] = [];
  private settled = false;

  constructor(private readonly overwrite: boolean) {}

  /** Stages a file output. `option` names the caller's option in messages. */
  async file(finalPath: string, option: string): Promise<StagedFile> {
    const abs = resolve(finalPath);
    if (this.files.some((f) => f.finalPath === abs)) throw new OptionsError(option, `names ${abs}, which another output of the call also writes`);
    const existing = await lstatOrNull(abs, option);
    if (existing) {
      if (existing.isDirectory()) throw new OptionsError(option, `${abs} is a directory, not a file`);
      if (!existing.isFile() && !existing.isSymbolicLink()) throw new OptionsError(option, `${abs} exists and is not a regular file`);
      if (!this.overwrite) throw new OptionsError(option, `${abs} exists; ${OVERWRITE_HINT}`);
    }
    await this.ensureDir(dirname(abs));
    const dir = dirname(abs);
    const record: FileRecord = {
      finalPath: abs,
      temps: [join(dir, stagedName(basename(abs)))],
      get tempPath() {
        return this.temps[this.temps.length - 1]!;
      },
      restage() {
        this.temps.push(join(dir, stagedName(basename(abs))));
        return this.tempPath;
      },
    };
    this.files.push(record);
    return record;
  }

  /**
   * Stages an output the caller gets as a stream: written to a private file in `spoolDir`, and at
   * commit opened and unlinked at once (the stream reads the open file; nothing is left on disk
   * whatever the reader does), then fed into `stream`, which the call's result already holds.
   * Until commit the stream carries nothing; a call that fails never hands it out.
   */
  streamFile(spoolDir: string): { tempPath: string; stream: Readable } {
    const tempPath = join(spoolDir, stagedName('stream-output'));
    const stream = new PassThrough();
    this.streams.push({ tempPath, stream });
    return { tempPath, stream };
  }

  /** Stages a directory output of `kind` (its marker file is `.sandcodec-<kind>.json`). */
  async dir(finalPath: string, option: string, kind: string): Promise<StagedDir> {
    const abs = resolve(finalPath);
    const existing = await statOrNull(abs, option);
    if (existing && !existing.isDirectory()) throw new OptionsError(option, `${abs} is a file, not a directory`);
    // A dangling symbolic link would be replaced by the staged directory's rename: refuse it.
    if (!existing && (await lstatOrNull(abs, option))) throw new OptionsError(option, `${abs} is a symbolic link to nothing`);
    let record: DirRecord;
    const markerName = marker(kind);
    const make = (stagePath: string, mode: DirRecord['mode'], previous: Set<string>): DirRecord => ({
      finalPath: abs,
      stagePath,
      option,
      kind,
      mode,
      previous,
      path: (...parts) => join(stagePath, ...parts),
      claim: async (entries) => {
        if (mode === 'new') return;
        const conflicts: string[] = [];
        for (const entry of [...entries, markerName]) {
          if (!(await lstatOrNull(join(abs, entry), option))) continue;
          if (!this.overwrite || !previous.has(entry)) conflicts.push(entry);
        }
        if (conflicts.length > 0) throw conflictError(option, abs, conflicts, kind, this.overwrite);
      },
    });
    if (!existing) {
      await this.ensureDir(dirname(abs));
      const stagePath = join(dirname(abs), stagedName(basename(abs)));
      await this.mkdir(stagePath, option);
      record = make(stagePath, 'new', new Set());
    } else {
      const stagePath = join(abs, stagedName(kind));
      await this.mkdir(stagePath, option);
      record = make(stagePath, 'into', await readMarker(abs, kind));
    }
    this.dirs.push(record);
    return record;
  }

  /** Puts every staged output in place, or none: a failure undoes the steps already taken. */
  async commit(): Promise<void> {
    if (this.settled) throw new InternalError('outputs: commit after the transaction was settled');
    const undo: Undo[] = [];
    const cleanup: string[] = [];
    try {
      for (const d of this.dirs) await this.commitDir(d, undo, cleanup);
      for (const f of this.files) await this.commitFile(f, undo, cleanup);
      for (const s of this.streams) await commitStream(s, undo);
    } catch (err) {
      for (const step of undo.reverse()) await step().catch(() => {});
      await this.rollback();
      if (err instanceof SandcodecError) throw err;
      throw new IOError(`cannot move the outputs into place: ${(err as Error).message}`, { path: (err as NodeJS.ErrnoException).path }, { cause: err });
    }
    this.settled = true;
    // What the commit replaced: ours (checked when it was claimed), no longer needed.
    for (const path of cleanup) await rm(path, { recursive: true, force: true }).catch(() => {});
  }

  /** Removes everything staged and every directory the transaction created (if still empty). */
  async rollback(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await Promise.all(this.files.flatMap((f) => f.temps.map((t) => rm(t, { force: true }).catch(() => {}))));
    await Promise.all(this.streams.map((s) => rm(s.tempPath, { force: true }).catch(() => {})));
    await Promise.all(this.dirs.map((d) => rm(d.stagePath, { recursive: true, force: true }).catch(() => {})));
    for (const dir of [...this.createdDirs].reverse()) await rmdir(dir).catch(() => {});
  }

  private async commitFile(f: FileRecord, undo: Undo[], cleanup: string[]): Promise<void> {
    for (const older of f.temps.slice(0, -1)) await rm(older, { force: true });
    const temp = f.tempPath;
    if (this.overwrite) {
      if (await lstatOrNull(f.finalPath, 'output')) {
        const backup = join(dirname(f.finalPath), stagedName(`${basename(f.finalPath)}.previous`));
        await rename(f.finalPath, backup);
        undo.push(() => rename(backup, f.finalPath));
        cleanup.push(backup);
      }
      await rename(temp, f.finalPath);
      undo.push(() => unlink(f.finalPath));
      return;
    }
    // A hard link never replaces: a file that appeared at the destination meanwhile is kept.
    try {
      await link(temp, f.finalPath);
      undo.push(() => unlink(f.finalPath));
      await unlink(temp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new IOError(`${f.finalPath} appeared while the call ran; it was not replaced`, { path: f.finalPath });
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
      // A filesystem without hard links: check, then rename (a narrow race, the best it offers).
      if (await lstatOrNull(f.finalPath, 'output')) throw new IOError(`${f.finalPath} appeared while the call ran; it was not replaced`, { path: f.finalPath });
      await rename(temp, f.finalPath);
      undo.push(() => unlink(f.finalPath));
    }
  }

  private async commitDir(d: DirRecord, undo: Undo[], cleanup: string[]): Promise<void> {
    const entries = (await readdir(d.stagePath)).sort(entryOrder);
    await writeFile(join(d.stagePath, marker(d.kind)), `${JSON.stringify({ createdBy: 'sandcodec', kind: d.kind, entries }, null, 2)}\n`);
    if (d.mode === 'new') {
      try {
        await rename(d.stagePath, d.finalPath);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST')
          throw new IOError(`${d.finalPath} appeared while the call ran; it was not replaced`, { path: d.finalPath });
        throw err;
      }
      undo.push(() => rename(d.finalPath, d.stagePath));
      return;
    }
    // Into an existing folder: entries the previous call of this kind made (and only those, as
    // claimed) move to a trash folder first, so a failure can put them back.
    const replaced = new Set<string>();
    for (const entry of [...entries, marker(d.kind)]) {
      if (!(await lstatOrNull(join(d.finalPath, entry), d.option))) continue;
      if (!this.overwrite || !d.previous.has(entry)) throw conflictError(d.option, d.finalPath, [entry], d.kind, this.overwrite);
      replaced.add(entry);
    }
    const stale = this.overwrite ? [...d.previous].filter((e) => !entries.includes(e) && e !== marker(d.kind)) : [];
    const trash = join(d.finalPath, stagedName(`${d.kind}-previous`));
    if (replaced.size > 0 || stale.length > 0) {
      await mkdir(trash);
      cleanup.push(trash);
      undo.push(() => rmdir(trash).catch(() => {}));
      for (const entry of [...replaced, ...stale]) {
        if (!(await lstatOrNull(join(d.finalPath, entry), d.option))) continue;
        await rename(join(d.finalPath, entry), join(trash, entry));
        undo.push(() => rename(join(trash, entry), join(d.finalPath, entry)));
      }
    }
    // Renditions first, manifests after them, the marker last: a watcher never sees a manifest
    // that points at a folder not there yet.
    for (const entry of [...entries, marker(d.kind)]) {
      await rename(join(d.stagePath, entry), join(d.finalPath, entry));
      undo.push(() => rename(join(d.finalPath, entry), join(d.stagePath, entry)));
    }
    await rmdir(d.stagePath);
    undo.push(() => mkdir(d.stagePath).then(() => {}));
  }

  private async mkdir(path: string, option: string): Promise<void> {
    try {
      await mkdir(path);
    } catch (err) {
      throw ioError(`cannot create ${path} (${option})`, err);
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    let first: string | undefined;
    try {
      first = await mkdir(dir, { recursive: true });
    } catch (err) {
      throw ioError(`cannot create the output directory ${dir}`, err);
    }
    // mkdir reports the topmost directory it made; remember the whole chain, deepest last.
    if (first) {
      const chain: string[] = [];
      for (let d = dir; d.length >= first.length; d = dirname(d)) chain.unshift(d);
      this.createdDirs.push(...chain);
    }
  }
}

/** Writes one file by the transaction's rules: staged, then put in place; never over one unless asked. */
export async function writeOutputFile(path: string, data: string | Uint8Array, o: { option: string; overwrite: boolean }): Promise<string> {
  const transaction = new OutputTransaction(o.overwrite);
  try {
    const file = await transaction.file(path, o.option);
    await writeFile(file.tempPath, data, { flag: 'wx', mode: 0o644 });
    await transaction.commit();
    return file.finalPath;
  } catch (err) {
    await transaction.rollback();
    if (err instanceof SandcodecError) throw err;
    throw ioError(`cannot write ${path}`, err);
  }
}

/** Top-level entries in commit order: directories (renditions) before files (manifests). */
function entryOrder(a: string, b: string): number {
  const rank = (n: string) => (/\.(m3u8|mpd|vtt)$/.test(n) ? 1 : 0);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function marker(kind: string): string {
  return `.sandcodec-${kind}.json`;
}

const MAX_MARKER_BYTES = 1024 * 1024;

/** The entries a previous call of `kind` recorded in `dir`; none when there is no valid marker. */
async function readMarker(dir: string, kind: string): Promise<Set<string>> {
  const path = join(dir, marker(kind));
  try {
    const info = await lstat(path);
    if (!info.isFile() || info.size > MAX_MARKER_BYTES) return new Set();
    const data = JSON.parse(await readFile(path, 'utf8')) as { createdBy?: unknown; kind?: unknown; entries?: unknown };
    if (data.createdBy !== 'sandcodec' || data.kind !== kind || !Array.isArray(data.entries)) return new Set();
    const safe = data.entries.filter((e): e is string => typeof e === 'string' && /^[^/\\\0]+$/.test(e) && e !== '.' && e !== '..');
    return new Set([...safe, marker(kind)]);
  } catch {
    return new Set();
  }
}

function conflictError(option: string, dir: string, conflicts: string[], kind: string, overwrite: boolean): OptionsError {
  const shown = conflicts.slice(0, 5).join(', ') + (conflicts.length > 5 ? `, … (${conflicts.length} in all)` : '');
  const why = overwrite
    ? `a previous ${kind} of sandcodec did not write ${conflicts.length > 1 ? 'them' : 'it'} (no marker lists ${conflicts.length > 1 ? 'them' : 'it'}), so ${conflicts.length > 1 ? 'they are' : 'it is'} not replaced`
    : OVERWRITE_HINT.replace('replace it', `replace a previous ${kind}`);
  return new OptionsError(option, `${dir} already holds ${shown}; ${why}`);
}

async function lstatOrNull(path: string, option: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw ioError(`cannot inspect ${path} (${option})`, err);
  }
}

async function statOrNull(path: string, option: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(`cannot inspect ${path} (${option})`, err);
  }
}

/** A host filesystem failure (permissions, the permission model, a full disk) as `E_IO`. */
export function ioError(what: string, err: unknown): IOError {
  const e = err as NodeJS.ErrnoException;
  return new IOError(`${what}: ${e?.message ?? String(err)}`, { ...(e?.code ? { errno: e.code } : {}) }, { cause: err });
}

/**
 * Opens a streamed output and unlinks it: the open file is the stream's, and no name of it is
 * left (a reader that never reads holds a file with no name, freed when the stream is). Where an
 * open file cannot be unlinked (Windows), it goes when the stream closes.
 */
async function commitStream(s: { tempPath: string; stream: PassThrough }, undo: Undo[]): Promise<void> {
  const handle = await open(s.tempPath, 'r');
  const unlinked = await unlink(s.tempPath).then(
    () => true,
    () => false,
  );
  undo.push(async () => {
    await handle.close().catch(() => {});
  });
  const file = handle.createReadStream({ autoClose: true });
  if (!unlinked) file.once('close', () => void rm(s.tempPath, { force: true }).catch(() => {}));
  // The reader going away (destroy) closes the file; a read error reaches the reader.
  s.stream.once('close', () => file.destroy());
  file.once('error', (err) => s.stream.destroy(new IOError(`reading the output failed: ${err.message}`, {}, { cause: err })));
  file.pipe(s.stream);
}
