// Backoff: how long to wait before trying again.

/**
 * Returns a random delay in ms between 0 and min(max, min * 2^attempt):
 * exponential backoff with full jitter, as reconnects, subscribe retries and
 * token refresh retries use it.
 * @param {number} attempt how many tries failed before this one (0 for the first retry)
 * @param {{minBackoff: number, maxBackoff: number}} opts
 * @returns {number}
 */
export function backoffDelay(attempt, opts) {
  const cap = Math.min(opts.maxBackoff, opts.minBackoff * 2 ** Math.min(attempt, 30));
  return Math.floor(Math.random() * cap);
}
