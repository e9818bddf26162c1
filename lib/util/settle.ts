// Concurrent steps that must all finish before their caller goes on (and closes what they use).

/**
 * Await every promise, then throw the first rejection (in argument order), else return the values
 * (undefined for an absent step). Unlike Promise.all, nothing is still running when this settles,
 * and no rejection goes unobserved.
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(steps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(steps.map((s) => s as unknown));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
