/**
 * `-p` parsing as Docker's nat.ParsePortSpec (ranges, addresses, protocols,
 * its error texts) and the PORTS column as docker/cli's DisplayablePorts
 * groups it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { displayablePorts, parsePublish } from '../../src/container/ports.js';

describe('parsePublish', () => {
  test('single ports, defaults: 127.0.0.1, tcp, host port 0 = any', () => {
    assert.deepEqual(parsePublish('80'), [{ hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, proto: 'tcp' }]);
    assert.deepEqual(parsePublish('8080:80'), [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, proto: 'tcp' }]);
    assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [{ hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, proto: 'udp' }]);
    assert.deepEqual(parsePublish('[::1]:8080:80/UDP'), [{ hostIp: '::1', hostPort: 8080, containerPort: 80, proto: 'udp' }]);
    assert.deepEqual(parsePublish('127.0.0.2::80'), [{ hostIp: '127.0.0.2', hostPort: 0, containerPort: 80, proto: 'tcp' }]);
  });

  test('ranges: one binding per container port; a host range for one container port is "any free port in it"', () => {
    assert.deepEqual(parsePublish('8000-8002:80-82').map((b) => `${b.hostPort}->${b.containerPort}`), ['8000->80', '8001->81', '8002->82']);
    assert.deepEqual(parsePublish('127.0.0.1:9000-9001:90-91/udp').map((b) => `${b.hostIp}:${b.hostPort}->${b.containerPort}/${b.proto}`),
      ['127.0.0.1:9000->90/udp', '127.0.0.1:9001->91/udp']);
    assert.deepEqual(parsePublish('8000-8010:80'), [{ hostIp: '127.0.0.1', hostPort: 8000, hostPortEnd: 8010, containerPort: 80, proto: 'tcp' }]);
    assert.deepEqual(parsePublish('80-81').map((b) => b.containerPort), [80, 81]);
  });

  test("Docker's validation messages", () => {
    const cases: [string, string][] = [
      ['8000-8002:80-81', 'invalid ranges specified for container and host Ports: 80-81 and 8000-8002'],
      ['8000:80x', 'invalid containerPort: 80x'],
      ['80/sctpx', 'invalid proto: sctpx'],
      ['99999:80', 'invalid hostPort: 99999'],
      ['1.2.3:80:80', 'invalid IP address: 1.2.3'],
      ['8002-8000:80', 'invalid hostPort: 8002-8000'],
      ['a:b:c:d', 'invalid IP address: a:b'],
      ['80-', 'invalid containerPort: 80-'],
    ];
    for (const [spec, msg] of cases) assert.throws(() => parsePublish(spec), { message: msg }, spec);
    assert.throws(() => parsePublish('80/sctp'), /slipway publishes tcp and udp ports only/);
  });
});

describe('displayablePorts', () => {
  const pub = (ip: string, publicPort: number, privatePort: number, type = 'tcp') => ({ ip, publicPort, privatePort, type });
  test('published on other port numbers: one entry each, after the groups, in private-port order', () => {
    assert.equal(displayablePorts([pub('127.0.0.1', 8001, 81), pub('127.0.0.1', 8000, 80), pub('127.0.0.1', 8080, 80, 'udp')]),
      '127.0.0.1:8000->80/tcp, 127.0.0.1:8080->80/udp, 127.0.0.1:8001->81/tcp');
  });
  test('same port numbers and exposed-only ports group into ranges', () => {
    assert.equal(displayablePorts([pub('', 0, 81), pub('', 0, 80), pub('', 0, 82), pub('', 0, 90)]), '80-82/tcp, 90/tcp');
    assert.equal(displayablePorts([pub('127.0.0.1', 80, 80), pub('127.0.0.1', 81, 81), pub('127.0.0.1', 9000, 443)]),
      '127.0.0.1:80-81->80-81/tcp, 127.0.0.1:9000->443/tcp');
    assert.equal(displayablePorts([pub('::1', 8080, 80)]), '[::1]:8080->80/tcp');
  });
});
