/**
 * Progress as callers see it: `{ phase, ratio, seconds, speed }`, with `ratio` computed from
 * FFmpeg's `time=` and the probed duration, clamped to 0..1 and never going backwards.
 */
import type { WorkerEvent } from './model/plan.js';

export interface Progress {
  /** What is running: `probe`, `transcode`, `ladder`, `generate`, … */
  phase: string;
  /** 0..1, monotonic within a call. */
  ratio: number;
  /** Media seconds processed so far. */
  seconds: number;
  /** Media seconds per wall second, as FFmpeg measures it (undefined until known). */
  speed: number | undefined;
}

export type ProgressListener = (progress: Progress) => void;

export class ProgressTracker {
  private ratio = 0;

  constructor(private readonly listener: ProgressListener | undefined) {}

  /** Returns the event handler for one job of the call, mapping its time to 0..1. */
  phase(phase: string, duration: number | null): (event: WorkerEvent) => void {
    return (event) => {
      if (event.type !== 'stats') return;
      const fraction = duration && duration > 0 ? Math.min(1, event.seconds / duration) : 0;
      this.emit(phase, fraction, event.seconds, event.speed);
    };
  }

  emit(phase: string, fraction: number, seconds: number, speed: number | undefined): void {
    if (!this.listener) return;
    this.ratio = Math.max(this.ratio, Math.min(1, Math.max(0, fraction)));
    try {
      this.listener({ phase, ratio: this.ratio, seconds, speed });
    } catch {
      // A throwing listener is the caller's bug; it must not fail the job it observes.
    }
  }
}
