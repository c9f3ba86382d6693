// Wires a GdbServer to byte streams: stdin/stdout (`target remote | trace gdbserver --stdio TRACE`) or TCP
// connections on a listening socket, one at a time.
import { createServer, Server, Socket } from 'node:net';
import { GdbConnection } from './connection.js';
import { parseRequest } from './request.js';
import { GdbServer } from './server.js';

/** Optional packet log (each received and sent payload), e.g. for --debug. */
export type PacketLog = (direction: '<' | '>', data: Uint8Array) => void;

/** Serve one byte stream until it ends (or gdb detaches or kills); resolves then. */
export function serveStream(server: GdbServer, input: NodeJS.ReadableStream, write: (b: Buffer) => void, log?: PacketLog): Promise<void> {
  return new Promise((done) => {
    let closed = false;
    // packets are answered one at a time, in order (a monitor command's answer can take a while)
    let queue: Promise<void> = Promise.resolve();
    const finish = (): void => { if (!closed) { closed = true; input.removeListener('data', onData); done(); } };
    const conn = new GdbConnection(write, {
      packet: (data) => {
        queue = queue.then(async () => {
          if (closed) return;
          log?.('<', data);
          const a = await server.handle(parseRequest(data));
          for (const r of a.replies) { log?.('>', typeof r === 'string' ? Buffer.from(r, 'latin1') : r); conn.send(r); }
          if (a.noAck) conn.noAck = true;
          if (a.close) finish();
        });
      },
      interrupt: () => { /* every move completes at once: nothing is running to interrupt */ },
    });
    const onData = (chunk: Buffer): void => conn.feed(chunk);
    input.on('data', onData);
    input.once('end', finish);
    input.once('close', finish);
  });
}

/** Listen on host:port and serve connections one after the other; resolves with the listening server. */
export function listen(server: GdbServer, host: string, port: number, log?: PacketLog): Promise<Server> {
  return new Promise((ok, fail) => {
    let busy = false;
    const net = createServer((sock: Socket) => {
      if (busy) { sock.destroy(); return; }
      busy = true;
      sock.setNoDelay(true);
      // a new connection starts in ack mode with no breakpoints (gdb inserts them again)
      server.breakpoints.clear();
      server.watches = [];
      void serveStream(server, sock, (b) => { sock.write(b); }, log).then(() => { busy = false; sock.end(); });
    });
    net.once('error', fail);
    net.listen(port, host, () => ok(net));
  });
}
