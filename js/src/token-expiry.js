// Token expiry: when a JWT expires, and how long before that the client
// fetches a new one.

// How long before a connection's expiry the client refreshes on its own
// when the server's `refresh` push has not come (at most a quarter of the
// lifetime left). The server asks earlier (30 s before by default).
// Channel tokens are fetched again as long before their expiry.
const REFRESH_FALLBACK_MS = 5000;

/**
 * Returns when a JWT expires (its `exp` claim, in Unix milliseconds), or 0
 * when it has none or is not a JWT. The token is not verified: the server
 * does that.
 * @param {string} token
 * @returns {number}
 */
export function tokenExpiry(token) {
  const part = typeof token === 'string' ? token.split('.')[1] : '';
  if (!part) return 0;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' && exp > 0 ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}

/**
 * Returns how long to wait before renewing a credential that expires in
 * `left` ms: until 5 s before the expiry, or a quarter of the time left
 * before it when that is shorter.
 * @param {number} left
 * @returns {number}
 */
export function renewDelay(left) {
  return Math.max(0, left - Math.min(REFRESH_FALLBACK_MS, left / 4));
}
