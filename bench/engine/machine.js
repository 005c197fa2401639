// Describes the machine a run happened on, so numbers are never read without their context.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1].trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function loadAverage() {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

/** `ffmpeg -version`'s first line, or undefined when no `ffmpeg` is on PATH. */
export function nativeFfmpegVersion() {
  const probe = spawnSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  return probe.stdout
    .split('\n')[0]
    .replace(/ Copyright.*/, '')
    .trim();
}

export function describeMachine() {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    ramGiB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}
