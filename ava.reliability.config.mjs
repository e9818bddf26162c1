// ava config of `npm run test:reliability` (test/reliability/): the standing randomized suite, kept
// out of `npm test`. Knobs: RELIABILITY_SEED, RELIABILITY_N (docs/reliability.md, "The suite").
export default {
  files: ['dist/test/reliability/**/*.test.js'],
  timeout: '10m',
  concurrency: 3,
  workerThreads: false,
};
