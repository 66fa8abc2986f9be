// Events: the listeners of Herald.on, and the calls into user code (event
// listeners and subscription handlers), whose exceptions become 'error'
// events instead of breaking the client.

/** The listeners of a client's events, by event name. */
export class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map();
  }

  /**
   * Adds a listener; returns a function that removes it.
   * @param {string} event
   * @param {Function} fn
   * @returns {() => void}
   */
  on(event, fn) {
    let set = this._listeners.get(event);
    if (!set) this._listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  /**
   * Removes a listener added with on().
   * @param {string} event
   * @param {Function} fn
   */
  off(event, fn) {
    this._listeners.get(event)?.delete(fn);
  }

  /**
   * Calls the listeners of event with args, in the order they were added.
   * @param {string} event
   * @param {...*} args
   */
  emit(event, ...args) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) this.safeCall(fn, args, event);
  }

  /**
   * Calls user code: what it throws is emitted as an 'error' event (and
   * logged, when an 'error' listener itself throws).
   * @param {Function} fn
   * @param {Array<*>} args
   * @param {string} what the event or handler, for the log
   */
  safeCall(fn, args, what) {
    try {
      fn(...args);
    } catch (err) {
      if (what === 'error') {
        console.error('herald: error listener threw', err);
      } else {
        this.emit('error', err);
      }
    }
  }
}
