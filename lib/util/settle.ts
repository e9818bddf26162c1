// Concurrent steps that must all finish before their caller goes on (and closes what they use).

/**
 * Await every promise, then throw the first rejection (in argument order). Unlike Promise.all,
 * nothing is still running when this settles, and no rejection goes unobserved.
 */
export async function allSettledOrThrow(steps: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(steps.filter((s): s is Promise<unknown> => s !== undefined));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
