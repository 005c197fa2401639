/** A result without its call record (id and timings differ from call to call): what two calls' results are compared on. */
export function withoutCall<T extends object>(result: T): Omit<T, 'call'> {
  const { call: _call, ...rest } = result as T & { call?: unknown };
  return rest;
}
