/** The error a call rejects with, checked to be a SandcodecError (of the built package). */
import { expect } from 'vitest';
import { SandcodecError } from '../../dist/index.js';

export async function failure(promise: Promise<unknown>): Promise<SandcodecError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandcodecError);
  return err as SandcodecError;
}
