// A typed example of @heraldrt/herald under Node.js 20, with the `ws`
// package as the WebSocket. It joins a room, prints the room's last
// messages and who is there, says hello, waits for its own message to come
// back, does the same with a few bytes (which arrive as a Uint8Array), and
// leaves:
//
//   npm install @heraldrt/herald ws
//   node node-chat.js ws://127.0.0.1:8080/ws chat:lobby
//
// (compiled with tsc; the herald binary serves the server side.)
import { WebSocket } from 'ws';
import { Herald, HeraldError, ErrorCode, type Publication, type PresenceResult } from '@heraldrt/herald';

interface ChatMessage {
  name: string;
  text: string;
}

const url = process.argv[2] ?? 'ws://127.0.0.1:8080/ws';
const room = process.argv[3] ?? 'chat:lobby';
const name = `node-${process.pid}`;

const herald = new Herald(url, { WebSocket, name: 'node-chat-example' });
herald.on('state', (state: string) => console.log(`herald is ${state}`));

let hello: (pub: Publication) => void = () => {};
const echoed = new Promise<Publication>((resolve) => (hello = resolve));
let bytesBack: (data: Uint8Array) => void = () => {};
const bytesEchoed = new Promise<Uint8Array>((resolve) => (bytesBack = resolve));

const sub = herald.subscribe(room, {
  onPublication: (pub) => {
    if (pub.data instanceof Uint8Array) {
      console.log(`#${pub.offset} ${pub.data.length} bytes`);
      if (pub.info?.client === herald.info?.client) bytesBack(pub.data);
      return;
    }
    const msg = pub.data as ChatMessage;
    console.log(`#${pub.offset} ${msg.name}: ${msg.text}`);
    if (pub.info?.client === herald.info?.client) hello(pub);
  },
  onJoin: ({ info }) => console.log(`${info.user || info.client} joined`),
  onLeave: ({ info }) => console.log(`${info.user || info.client} left`),
});
herald.connect();

try {
  const ctx = await sub.ready;
  console.log(`subscribed to ${ctx.channel} at offset ${ctx.offset}`);
  const { publications } = await sub.history({ limit: 20 });
  for (const p of publications) console.log(`(earlier) ${p.data instanceof Uint8Array ? `${p.data.length} bytes` : (p.data as ChatMessage).text}`);
  const who: PresenceResult = await sub.presence();
  console.log(`${Object.keys(who.clients).length} here`);
  const { offset } = await sub.publish({ name, text: 'hello from Node.js' } satisfies ChatMessage);
  const pub = await echoed;
  console.log(`published at ${offset}, received back at ${pub.offset}`);
  // Bytes go as they are (in Protobuf, or base64 in JSON) and come back as
  // a Uint8Array; info.encoding says which encoding the connection speaks.
  const bytes = new TextEncoder().encode('hello in bytes');
  await sub.publish(bytes);
  const back = await bytesEchoed;
  console.log(`${back.length} bytes came back over ${herald.info?.encoding}: ${new TextDecoder().decode(back)}`);
  // A Blob is refused before it reaches the server: publish its bytes
  // (await blob.arrayBuffer()) instead.
  await herald.publish(room, new Blob(['not like this'])).catch((err: HeraldError) => {
    if (err.code !== ErrorCode.BINARY) throw err;
  });
} catch (err) {
  console.error(err instanceof HeraldError ? `herald error ${err.code}: ${err.message}` : err);
  process.exitCode = 1;
} finally {
  sub.unsubscribe();
  herald.disconnect();
}
