/** `sandcodec version [--core NAME] [--json]`: the package's version and the FFmpeg core it runs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeCore, resolveCore } from '../../util/core-files.js';
import { runtimeDir } from '../../util/runtime-dir.js';
import { type CommandContext, printJson } from '../context.js';
import { shownPath } from '../format.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(runtimeDir(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export async function versionCommand(ctx: CommandContext): Promise<void> {
  const core = describeCore(resolveCore(ctx.common.core));
  if (ctx.common.json) {
    printJson(ctx, { sandcodec: packageVersion(), core });
    return;
  }
  ctx.print(`sandcodec ${packageVersion()}`);
  ctx.print(`core: ${core.name} (${core.kind === 'stock' ? '@ffmpeg/core' : 'built from Debian sources'}), FFmpeg ${core.ffmpeg}`);
  ctx.print(`licence: ${core.licence}`);
  ctx.print(`files: ${shownPath(core.dir)}`);
  for (const [kind, names] of Object.entries(core.components ?? {})) ctx.print(`${kind} (${names.length}): ${names.join(' ')}`);
  if (!core.components) ctx.print('components: all of the @ffmpeg/core 0.12.10 build');
}
