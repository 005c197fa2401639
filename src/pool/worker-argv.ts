/**
 * The pool workers' Node options: the process's own, and, where Node can `require()` an ES
 * module, that switched off. Piscina loads the worker module with `require()` first; Node 20.19+
 * then takes its synchronous ES module path, which can race an `import()` of the same graph and
 * abort the whole process (seen as "FATAL ERROR: v8::Module::IsGraphAsync"). Refused, `require()`
 * fails at once and Piscina imports the module the ordinary way.
 *
 * Options given to a worker explicitly are checked by Node, and it refuses the ones that act on
 * the whole process (V8 flags such as `--expose-gc` or `--max-old-space-size`, `--title`), which it
 * would otherwise leave out of what a worker inherits. Those it names are left out here too.
 */
import { Worker } from 'node:worker_threads';

const REQUIRE_ESM = '--experimental-require-module';

let resolved: string[] | undefined;

/** Undefined: nothing to change, the workers inherit the process's options as Node does. */
export function workerExecArgv(): string[] | undefined {
  if (!process.allowedNodeEnvironmentFlags.has(REQUIRE_ESM)) return undefined;
  resolved ??= [...perThread(process.execArgv), `--no-${REQUIRE_ESM.slice(2)}`];
  return resolved;
}

/** Options that carry the main script itself (`node -e CODE`): never a worker's. */
const SCRIPT_OPTIONS = new Set(['-e', '--eval', '-p', '--print']);

/** The options of `argv` that Node accepts for a worker thread. */
function perThread(argv: readonly string[]): string[] {
  let kept = argv.filter((arg, i) => !SCRIPT_OPTIONS.has(arg) && !SCRIPT_OPTIONS.has(argv[i - 1] ?? '') && !/^--(eval|print)=/.test(arg));
  // Node names every refused option in one error: one probe finds them, a second confirms.
  for (let tries = 0; tries < 2 && kept.length > 0; tries++) {
    const refused = refusedOptions(kept);
    if (refused.length === 0) return kept;
    kept = kept.filter((arg) => !refused.includes(arg) && !refused.includes(arg.split('=')[0]!));
  }
  return kept;
}

/** What Node refuses of `execArgv` for a worker; its check runs before any thread starts. */
function refusedOptions(execArgv: string[]): string[] {
  try {
    const probe = new Worker('', { eval: true, execArgv, stdout: true, stderr: true });
    probe.unref();
    void probe.terminate();
    return [];
  } catch (err) {
    const { code, message } = err as { code?: string; message?: string };
    if (code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    const listed = /flags: (.*)$/.exec(message ?? '')?.[1] ?? '';
    const names = listed.split(/,\s*|\s+/).filter((s) => s.startsWith('-'));
    // An error that names nothing: keep only what cannot be refused, nothing.
    return names.length > 0 ? names : execArgv;
  }
}
