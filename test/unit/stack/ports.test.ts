import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { assertPortFree, checkPort, freePorts, isPortFree, PortInUseError } from '../../../stack/ports';

describe('ports', () => {
  const servers: net.Server[] = [];
  const listen = async (): Promise<number> => {
    const srv = net.createServer();
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return (srv.address() as net.AddressInfo).port;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('when something listens on a port, then it is reported as not free', async () => {
    const port = await listen();

    expect(await isPortFree(port)).toBe(false);
  });

  it('when a port is taken, then assertPortFree throws naming the port, the service and the hint', async () => {
    const port = await listen();

    const err = await assertPortFree(port, 'Temporal gRPC', 'set TEMPORAL_ADDRESS').catch((e: unknown) => e);

    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toBe(`port ${port} (Temporal gRPC) is already in use: set TEMPORAL_ADDRESS`);
  });

  it('when free ports are requested, then they are distinct and bindable', async () => {
    const ports = await freePorts(3);

    expect(new Set(ports).size).toBe(3);
    for (const p of ports) expect(await isPortFree(p)).toBe(true);
  });

  it.each([0, 70000, 1.5, Number.NaN])('when a port is %s, then checkPort throws a RangeError naming it', (p) => {
    expect(() => checkPort(p, 'mongo.port')).toThrow(RangeError);
    expect(() => checkPort(p, 'mongo.port')).toThrow(/mongo\.port/);
  });
});
