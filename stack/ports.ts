import net from 'node:net';

/** Thrown when a port the stack needs is taken; the message says which service and what to do. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly service: string,
    hint: string,
  ) {
    super(`port ${port} (${service}) is already in use: ${hint}`);
    this.name = 'PortInUseError';
  }
}

/**
 * Resolves true when nothing listens on host:port. Binding is the only reliable check: a connect
 * probe misses servers bound to another interface, and a bind on the exact host the service will
 * use answers the question the service will ask.
 * @param host @default '127.0.0.1'
 */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Asks the kernel for a currently free ephemeral port on host. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('kernel returned no free port'))));
    });
  });
}

/** Returns `count` distinct free ports (distinct within this call). */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < count) out.add(await freePort(host));
  return [...out];
}

/** Validates a port number from options or config. */
export function checkPort(port: number, name: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`${name} must be an integer port 1-65535, got ${JSON.stringify(port)}`);
  }
  return port;
}

/** Throws {@link PortInUseError} when host:port is taken. */
export async function assertPortFree(port: number, service: string, hint: string, host = '127.0.0.1'): Promise<void> {
  if (!(await isPortFree(port, host))) throw new PortInUseError(port, service, hint);
}
