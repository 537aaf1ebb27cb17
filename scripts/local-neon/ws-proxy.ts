// Neon's WebSocket proxy, as used by the driver's Pool and Client: each WebSocket carries one Postgres
// connection, bytes unchanged in both directions. The URL names the target as ?address=host:port.

import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

// Loaded through Node's resolver on purpose: when this module runs inside a test runner that resolves
// packages for the Workers runtime, `ws` would otherwise resolve to its browser stub.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as typeof import("ws");

import { type Stats, type Target, targetOf } from "./stats.ts";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const QUERY = 0x51; // 'Q'
const EXECUTE = 0x45; // 'E'
const EMPTY = Buffer.alloc(0);

/** Stop reading Postgres while this much is still queued for a slow WebSocket client. */
const HIGH_WATER = 4 * 1024 * 1024;

export type FrontendHooks = { onStartup(params: Record<string, string>): void; onStatement(): void };

/**
 * Follows the frontend half of the Postgres protocol just far enough to count statements: it keeps only
 * message headers and the startup packet, skipping bodies, and gives up if the client negotiates TLS.
 */
export class FrontendCounter {
  hooks: FrontendHooks;
  pending: Buffer;
  skip: number;
  startup: boolean;
  off: boolean;
  awaitingEncryptionReply: boolean;

  constructor(hooks: FrontendHooks) {
    this.hooks = hooks;
    this.pending = EMPTY;
    this.skip = 0;
    this.startup = true;
    this.off = false;
    this.awaitingEncryptionReply = false;
  }

  /** `chunk`: client → server bytes. */
  client(chunk: Buffer) {
    if (this.off) return;
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    while (!this.off) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length - at);
        this.skip -= n;
        at += n;
        if (this.skip > 0) break;
      }
      if (this.startup) {
        // Startup-phase packets have no type byte: length, then a code or protocol version.
        if (buf.length - at < 8) break;
        const length = buf.readInt32BE(at);
        const code = buf.readInt32BE(at + 4);
        if (length < 8 || code === CANCEL_REQUEST) {
          this.off = true;
          break;
        }
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.awaitingEncryptionReply = true;
          at += 8;
          continue;
        }
        if (buf.length - at < length) break;
        this.hooks.onStartup(parseStartup(buf.subarray(at + 8, at + length)));
        this.startup = false;
        at += length;
        continue;
      }
      if (buf.length - at < 5) break;
      const type = buf[at];
      const length = buf.readInt32BE(at + 1);
      if (length < 4) {
        this.off = true;
        break;
      }
      if (type === QUERY || type === EXECUTE) this.hooks.onStatement();
      at += 1;
      this.skip = length;
    }
    this.pending = at < buf.length && !this.off ? Buffer.from(buf.subarray(at)) : EMPTY;
  }

  /** `chunk`: server → client bytes; only the answer to an SSL/GSS request matters. */
  server(chunk: Buffer) {
    if (!this.awaitingEncryptionReply || chunk.length === 0) return;
    this.awaitingEncryptionReply = false;
    if (chunk[0] === 0x53 || chunk[0] === 0x47) this.off = true; // 'S' / 'G': encrypted from here on
  }
}

/** `body`: the startup packet after length and protocol version, key\0value\0...\0 */
function parseStartup(body: Buffer) {
  const parts = body.toString("utf8").split("\0");
  const params: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const [key, value] = [parts[i], parts[i + 1]];
    if (!key || value === undefined) break;
    params[key] = value;
  }
  return params;
}

/** `address`: host:port, an IPv6 host optionally in brackets. */
function parseAddress(address: string) {
  const colon = address.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(address.slice(colon + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export function createWsProxy({ stats, log }: { stats: Stats; log: (line: string) => void }) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const tcpSockets = new Set<net.Socket>();

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const address = new URL(req.url ?? "/", "http://local").searchParams.get("address");
    const target = address ? parseAddress(address) : undefined;
    if (!target) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bridge(ws, target));
  }

  function bridge(ws: WebSocket, { host, port }: { host: string; port: number }) {
    const tcp = net.connect({ host, port });
    tcp.setNoDelay(true);
    tcpSockets.add(tcp);
    let target: Target | undefined;
    const counter = new FrontendCounter({
      onStartup(params) {
        const user = params.user ?? "postgres";
        target = targetOf({ user, host, port, database: params.database || user });
        log(`ws ${target.key} connected`);
      },
      onStatement() {
        if (target) stats.add(target, { ws_statements: 1 });
      },
    });

    ws.on("message", (data) => {
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      counter.client(chunk);
      // Writes issued while the TCP connection is still opening are queued by Node, which is what
      // lets the driver pipeline its startup packet right after the WebSocket opens.
      if (!tcp.write(chunk)) {
        ws.pause();
        tcp.once("drain", () => ws.resume());
      }
    });

    tcp.on("data", (chunk: Buffer) => {
      counter.server(chunk);
      if (ws.readyState !== ws.OPEN) return;
      ws.send(chunk, { binary: true }, () => {
        if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER / 2) tcp.resume();
      });
      if (ws.bufferedAmount > HIGH_WATER) tcp.pause();
    });

    tcp.on("error", (error) => log(`ws ${host}:${port} tcp error: ${error.message}`));
    tcp.on("close", () => {
      tcpSockets.delete(tcp);
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
    });
    ws.on("error", () => tcp.destroy());
    ws.on("close", () => {
      if (tcp.connecting) tcp.destroy();
      else tcp.end();
    });
  }

  function close() {
    for (const ws of wss.clients) ws.terminate();
    for (const tcp of tcpSockets) tcp.destroy();
    tcpSockets.clear();
    wss.close();
  }

  return { handleUpgrade, close };
}
