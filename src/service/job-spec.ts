/**
 * What a service job is, checked when it is submitted: an operation, an input URL, the
 * operation's options (only those that are plain data: nothing that names a host path, a stream
 * or a callback), and where its outputs go (URLs or a folder under the output root). A job that
 * passes is plain JSON that any worker can run; one that fails is refused with 400 before it is
 * queued, naming the field.
 */
import { OptionsError } from '../errors.js';
import { TARGET_KEYS } from '../ops/image.js';
import { checkUrl, type UrlPolicy } from './url-policy.js';

/** Operations a job can run, and the options each takes from the request. */
export const JOB_OPTIONS = {
  probe: ['decode'],
  loudness: [],
  transcode: ['preset', 'start', 'duration', 'fadeIn', 'fadeOut', 'cover', 'tags', 'stripTags'],
  ladder: ['presets', 'baseName', 'cover', 'tags', 'stripTags'],
  normalize: ['preset', 'target', 'truePeak', 'policy'],
  package: [
    'video',
    'audio',
    'segmentDuration',
    'formats',
    'audioOnly',
    'x264Preset',
    'chunkSeconds',
    'initTemplate',
    'segmentTemplate',
    'singleFile',
    'audioLanguage',
    'audioName',
  ],
  thumbnails: ['every', 'width', 'poster', 'sprite'],
  // Every resize target option is plain data (sizes, formats, a background colour).
  resize: [...TARGET_KEYS, 'shrinkOnLoad'],
} as const satisfies Record<string, readonly string[]>;

export type JobOp = keyof typeof JOB_OPTIONS;
export const JOB_OPS = Object.keys(JOB_OPTIONS) as JobOp[];

/** Operations that write files, and so need `output`. */
const WRITES: ReadonlySet<JobOp> = new Set(['transcode', 'ladder', 'normalize', 'package', 'thumbnails', 'resize']);

export type JobOutput =
  /** A URL ending in `/` that each file's name is appended to, or a template with `{name}` (a presigned URL per file). */
  | { url: string; method: 'PUT' | 'POST' }
  /** A folder under the service's output root, relative to it; created by the job, never replaced. */
  | { dir: string };

export interface JobSpec {
  /** Caller-chosen idempotency key: submitting the same id twice gives one job. */
  id?: string;
  op: JobOp;
  input: { url: string };
  options: Record<string, unknown>;
  output?: JobOutput;
}

/** A job id: short, and safe in Redis keys, BullMQ ids (no `:`) and file names. */
export const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

const MAX_OPTIONS_JSON = 64 * 1024;

export interface SpecContext {
  policy: UrlPolicy;
  /** Whether the service was started with an output root (`--output-root`). */
  outputRoot: boolean;
}

export function parseJobSpec(body: unknown, ctx: SpecContext): JobSpec {
  if (!isRecord(body)) throw new OptionsError('body', 'must be a JSON object');
  const known = ['id', 'op', 'input', 'options', 'output', ...JOB_OPS.flatMap((op) => JOB_OPTIONS[op] as readonly string[])];
  for (const key of Object.keys(body)) if (!known.includes(key)) throw new OptionsError(key, 'is not a job field');
  const op = body.op;
  if (typeof op !== 'string' || !Object.hasOwn(JOB_OPTIONS, op)) throw new OptionsError('op', `must be one of ${JOB_OPS.join(', ')}, got ${show(op)}`);
  const jobOp = op as JobOp;
  const spec: JobSpec = { op: jobOp, input: { url: inputUrl(body.input, ctx.policy) }, options: jobOptions(jobOp, body) };
  if (body.id !== undefined) {
    if (typeof body.id !== 'string' || !JOB_ID.test(body.id)) throw new OptionsError('id', 'must be 1 to 64 letters, digits, _ or -');
    spec.id = body.id;
  }
  if (WRITES.has(jobOp)) spec.output = jobOutput(body.output, ctx);
  else if (body.output !== undefined) throw new OptionsError('output', `${op} writes no files; its result is in the job's status`);
  return spec;
}

function inputUrl(input: unknown, policy: UrlPolicy): string {
  if (!isRecord(input) || Object.keys(input).some((k) => k !== 'url')) throw new OptionsError('input', 'must be { "url": "https://…" }');
  return checkUrl(input.url, policy, 'input.url').href;
}

/**
 * The operation's options: top-level fields (`presets`, `preset`, …) or an `options` object, not
 * both for one key. Only the listed keys: a path-valued engine option (`output`, a cover image
 * given as a file, subtitles from disk) would read or write the worker's own files.
 */
function jobOptions(op: JobOp, body: Record<string, unknown>): Record<string, unknown> {
  const allowed: readonly string[] = JOB_OPTIONS[op];
  const nested = body.options === undefined ? {} : body.options;
  if (!isRecord(nested)) throw new OptionsError('options', 'must be an object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of [...Object.entries(nested), ...Object.entries(body).filter(([k]) => !['id', 'op', 'input', 'options', 'output'].includes(k))]) {
    if (!allowed.includes(key)) throw new OptionsError(key, `is not an option of ${op} jobs (they take: ${allowed.join(', ') || 'none'})`);
    if (Object.hasOwn(out, key)) throw new OptionsError(key, 'is given twice');
    out[key] = value;
  }
  if ('cover' in out && out.cover !== 'keep' && out.cover !== 'drop') throw new OptionsError('cover', "must be 'keep' or 'drop' in a job");
  if (op === 'ladder' && !Array.isArray(out.presets)) throw new OptionsError('presets', 'must be a non-empty array of preset names');
  if ((op === 'transcode' || op === 'normalize') && out.preset === undefined) throw new OptionsError('preset', `is required for ${op}`);
  if (JSON.stringify(out).length > MAX_OPTIONS_JSON) throw new OptionsError('options', `must be at most ${MAX_OPTIONS_JSON} bytes of JSON`);
  return out;
}

function jobOutput(output: unknown, ctx: SpecContext): JobOutput {
  if (!isRecord(output)) throw new OptionsError('output', 'must be { "url": … } or { "dir": … }');
  if ('url' in output) {
    for (const key of Object.keys(output)) if (key !== 'url' && key !== 'method') throw new OptionsError(`output.${key}`, 'is not an output field');
    const url = checkUrl(output.url, ctx.policy, 'output.url');
    const method = output.method ?? 'PUT';
    if (method !== 'PUT' && method !== 'POST') throw new OptionsError('output.method', `must be PUT or POST, got ${show(method)}`);
    // The template's `{name}` is kept as written (URL parsing would encode the braces).
    const raw = output.url as string;
    if (!raw.includes('{name}') && !url.pathname.endsWith('/'))
      throw new OptionsError('output.url', "must end in '/' (each file's name is appended) or hold {name}");
    return { url: raw.includes('{name}') ? raw : url.href, method };
  }
  if ('dir' in output) {
    for (const key of Object.keys(output)) if (key !== 'dir') throw new OptionsError(`output.${key}`, 'is not an output field');
    if (!ctx.outputRoot) throw new OptionsError('output.dir', 'this service has no output root (start it with --output-root DIR)');
    return { dir: relativeDir(output.dir) };
  }
  throw new OptionsError('output', 'must be { "url": … } or { "dir": … }');
}

/**
 * A folder relative to the output root: plain segments only. `..`, absolute paths, backslashes
 * and dot-files are refused here; the resolved path is checked again against the root when
 * the job commits (a symbolic link inside the root could still point out of it).
 */
export function relativeDir(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512)
    throw new OptionsError('output.dir', 'must be a relative folder name of 1 to 512 characters');
  const segments = value.split('/').filter((s) => s !== '');
  if (value.startsWith('/') || segments.length === 0 || segments.some((s) => !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(s) || s === '..')) {
    throw new OptionsError('output.dir', `must be relative, of segments of letters, digits, '.', '_' and '-' not starting with '.', got ${show(value)}`);
  }
  return segments.join('/');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
