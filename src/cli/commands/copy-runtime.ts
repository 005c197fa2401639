/**
 * `sandcodec copy-runtime DIR [--force]`: what an app bundled with esbuild needs beside its bundle
 * (DIR/sandcodec/ and DIR/worker.js; see util/copy-runtime.ts).
 */
import { copyRuntime } from '../../util/copy-runtime.js';
import { type CommandContext, printJson } from '../context.js';
import { formatBytes } from '../format.js';

export async function copyRuntimeCommand(ctx: CommandContext): Promise<void> {
  const result = copyRuntime(ctx.positionals[0]!, { overwrite: ctx.values.force === true });
  if (ctx.common.json) {
    printJson(ctx, result);
    return;
  }
  ctx.print(`runtime  ${result.dir}  (${result.files} files, ${formatBytes(result.bytes)})`);
  ctx.print(`worker   ${result.workerEntry}`);
}
