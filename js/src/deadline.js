// Deadlines on promises.

import { ErrorCode, HeraldError } from './errors.js';

/**
 * Settles as p does, or rejects with a 'timeout' HeraldError ("herald:
 * <what> within <ms> ms") when p has not settled in ms.
 * @param {Promise<any>} p
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<any>}
 */
export function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new HeraldError(ErrorCode.TIMEOUT, `herald: ${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
