/**
 * Runs the Auth service peer in the foreground (for the demo), one JSON line per call.
 *
 *   node test/auth-peer/main.ts --port 3000 [--host 127.0.0.1] [--token T] [--mode ok] [--tenant id ...]
 *
 * Switch it while it runs: curl -XPOST localhost:3000/__peer/mode -d '{"mode":"fail500"}'
 * Ctrl-C or SIGTERM stops it.
 */
import { parseArgs } from 'node:util';
import { PEER_MODES, isPeerMode, startAuthPeer } from './peer.ts';

const usage =
  'usage: node test/auth-peer/main.ts --port N [--host 127.0.0.1] [--token TOKEN] ' +
  `[--mode ${PEER_MODES.join('|')}] [--tenant ID]...`;

function fail(message: string): never {
  console.error(`auth-peer: ${message}\n${usage}`);
  process.exit(2);
}

function parse() {
  return parseArgs({
    options: {
      port: { type: 'string', default: '3000' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      mode: { type: 'string', default: 'ok' },
      tenant: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
}
let args: ReturnType<typeof parse>;
try {
  args = parse();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${args.port}`);
const mode = args.mode;
if (!isPeerMode(mode)) fail(`--mode must be one of ${PEER_MODES.join(', ')}, got ${mode}`);

const peer = await startAuthPeer({
  port,
  host: args.host,
  requiredToken: args.token,
  tenants: args.tenant,
  onCall: (call) => {
    const event = call.status === undefined ? 'received' : 'answered';
    // The token itself stays out of the log; its presence is what the demo shows.
    const authorization = call.authorization?.replace(/^(\S+\s+).+$/, '$1[redacted]');
    console.log(JSON.stringify({ event, ...call, authorization }));
  },
});
peer.setMode(mode);
console.log(
  JSON.stringify({
    event: 'listening',
    url: peer.url,
    mode,
    requiresToken: args.token !== undefined,
    admin: `${peer.url}/__peer/{calls,state,mode,token,tenants,reset}`,
  }),
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    peer.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`auth-peer: close failed: ${String(error)}`);
        process.exit(1);
      },
    );
  });
}
