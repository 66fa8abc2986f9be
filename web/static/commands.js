// The chat's slash commands, answered by the application's backend through
// Herald's HTTP proxy (docs/backend.md), not by other people in the room:
//
// - /time is an RPC (herald.rpc('time')): the backend's clock, which is the
//   one an application trusts, unlike the browser's own;
// - /feedback TEXT is a send (herald.send): a one-way note to the site's
//   operators, which the backend stores; a send has no reply.
//
// The herald binary answers RPCs itself only through a backend: without one,
// every method answers 104 (method not found) and a send is dropped. The
// page then says so, and how to start the Node example behind it
// (examples/node-backend, whose README documents both commands).

/** The command that starts herald with the Node example as its backend. */
export const SERVE_WITH_BACKEND = 'herald serve --config examples/node-backend/demo.yaml';
/** The command that starts the Node example. */
export const START_BACKEND = 'cd examples/node-backend && npm ci && node server.js';

const METHOD_NOT_FOUND = 104;
const BACKEND_UNAVAILABLE = 112;
const RPC_TIMEOUT_MS = 10_000;

export const HELP =
  'Commands: /time shows the server\u2019s clock and /feedback TEXT sends a note to the site\u2019s operators, ' +
  'both answered by the application\u2019s backend. Start a message with // to send text that begins with /.';

/**
 * isCommand reports whether text is a slash command rather than a message.
 * @param {string} text
 * @returns {boolean}
 */
export function isCommand(text) {
  return text.startsWith('/') && !text.startsWith('//');
}

/**
 * Commands runs the slash commands of one page.
 *
 * show(parts, kind) puts a notice in the room: parts is a string or an array
 * of strings and {code} objects; kind is a class of .notice.
 */
export class Commands {
  /**
   * @param {import('/herald.js').Herald} herald
   * @param {(parts: string | Array<string | {code: string}>, kind?: string, data?: object) => void} show
   */
  constructor(herald, show) {
    this.herald = herald;
    this.show = show;
    /** Whether a backend answers RPCs: true, false, or null until an RPC tells. */
    this.backend = null;
  }

  /**
   * run handles text when it is a command and reports whether it was: "//"
   * escapes a message that begins with "/", which the caller publishes as
   * text (without the first slash).
   * @param {string} text
   * @param {{room: string, user: string}} where
   * @returns {boolean}
   */
  run(text, where) {
    if (!isCommand(text)) return false;
    const [, name, rest = ''] = /^\/(\S*)\s*([\s\S]*)$/.exec(text);
    switch (name.toLowerCase()) {
      case 'time':
        this.time();
        break;
      case 'feedback':
        this.feedback(rest.trim(), where);
        break;
      case 'help':
        this.show(HELP, 'info');
        break;
      default:
        this.show(`Unknown command /${name}. ${HELP}`, 'warn');
    }
    return true;
  }

  /** time asks the backend for its clock and shows it. */
  async time() {
    let res;
    try {
      res = await this.herald.rpc('time', undefined, { timeout: RPC_TIMEOUT_MS });
    } catch (err) {
      this.failed('/time', err);
      return;
    }
    this.backend = true;
    const when = new Date(res && res.now);
    if (Number.isNaN(when.getTime())) {
      this.show(`The backend answered /time with ${JSON.stringify(res)}, which has no time in "now".`, 'warn');
      return;
    }
    const zone = typeof res.zone === 'string' && res.zone ? `, its zone ${res.zone.slice(0, 64)}` : '';
    const by = typeof res.server === 'string' && res.server ? ` (${res.server.slice(0, 64)}${zone})` : '';
    this.show(
      `Server time: ${when.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' })}, from the application\u2019s backend${by}.`,
      'backend',
      { now: when.toISOString() },
    );
  }

  /** feedback sends text to the backend, once it is known to be there. */
  async feedback(text, where) {
    if (!text) {
      this.show('Write the note after the command: /feedback The chat works well.', 'warn');
      return;
    }
    if (this.backend === null) {
      // A send has no reply: ask the backend something first, so that a
      // note is never silently dropped by a server without one.
      try {
        await this.herald.rpc('time', undefined, { timeout: RPC_TIMEOUT_MS });
        this.backend = true;
      } catch (err) {
        this.failed('/feedback', err);
        return;
      }
    }
    if (this.backend === false) {
      this.failed('/feedback', { code: METHOD_NOT_FOUND });
      return;
    }
    try {
      await this.herald.send({ type: 'feedback', text, room: where.room, name: where.user });
    } catch (err) {
      this.show(`Your note was not sent: ${err.message}`, 'error');
      return;
    }
    this.show('Thanks: your note went to the application\u2019s backend (a send has no reply).', 'backend');
  }

  /** failed explains why a command got no answer. */
  failed(command, err) {
    if (err && err.code === METHOD_NOT_FOUND) {
      this.backend = false;
      this.show(
        [
          `${command} is answered by the application\u2019s backend, through Herald\u2019s HTTP proxy, and this server has none (error 104, method not found). `,
          'To try it, start the Node example: ',
          { code: START_BACKEND },
          ' and then herald with it as the backend (that file sets --proxy-url for RPC and send): ',
          { code: SERVE_WITH_BACKEND },
        ],
        'needs-backend',
      );
      return;
    }
    if (err && err.code === BACKEND_UNAVAILABLE) {
      this.show(`The application\u2019s backend did not answer ${command} (${err.message}). Is it running?`, 'warn');
      return;
    }
    this.show(`${command} failed: ${err && err.message ? err.message : err}`, 'error');
  }
}
