// Native FFmpeg with the engine's own encoder arguments, single-threaded like one engine worker,
// so the ratio measures the WebAssembly build and the engine around it, not different settings.
import { spawn } from 'node:child_process';
import { encoderArgs } from '../../dist/model/presets.js';

/** The command line equivalent to `transcode(source, { preset, output })`. */
export function nativeArgs(source, audio, preset, output) {
  return [
    '-nostdin',
    '-y',
    '-hide_banner',
    '-loglevel',
    'error',
    '-filter_threads',
    '1',
    '-threads',
    '1',
    '-i',
    source,
    '-map',
    `0:${audio.index}`,
    ...encoderArgs(preset, audio),
    '-map_metadata',
    '0',
    '-threads',
    '1',
    '-f',
    preset.format,
    ...(preset.format === 'ipod' ? ['-movflags', '+faststart'] : []),
    output,
  ];
}

/** Runs `ffmpeg` to completion; rejects with its stderr on failure. */
export function runNative(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.trim().slice(-400)}`))));
  });
}
