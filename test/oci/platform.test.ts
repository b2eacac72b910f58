import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parsePlatform, formatPlatform, normalizePlatform, matchPlatform, hostPlatform, hostOS, normalizeArch,
} from '../../src/oci/platform.js';
import type { Platform } from '../../src/oci/platform.js';
import { SlipwayError } from '../../src/errors.js';

const host = hostPlatform();
const hostArchVariant = host.architecture === 'arm' && host.variant !== 'v7' ? host.variant : undefined;

// containerd/platforms platforms_test.go TestParseSelector
describe('parsePlatform', () => {
  const cases: Array<{ input: string; expected: Platform; matches?: Platform[]; formatted: string }> = [
    { input: 'linux/arm64', expected: { os: 'linux', architecture: 'arm64' }, formatted: 'linux/arm64',
      matches: [{ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'aarch64', variant: 'v8' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }] },
    { input: 'linux/arm64/v8', expected: { os: 'linux', architecture: 'arm64', variant: 'v8' }, formatted: 'linux/arm64/v8',
      matches: [{ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'aarch64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }] },
    { input: 'linux/arm', expected: { os: 'linux', architecture: 'arm' }, formatted: 'linux/arm',
      matches: [{ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'armhf' }, { os: 'linux', architecture: 'arm', variant: '7' }] },
    { input: 'linux/arm/v6', expected: { os: 'linux', architecture: 'arm', variant: 'v6' }, formatted: 'linux/arm/v6',
      matches: [{ os: 'linux', architecture: 'armel' }] },
    { input: 'linux/arm/v7', expected: { os: 'linux', architecture: 'arm', variant: 'v7' }, formatted: 'linux/arm/v7',
      matches: [{ os: 'linux', architecture: 'arm' }, { os: 'linux', architecture: 'armhf' }] },
    { input: 'arm', expected: { os: hostOS(), architecture: 'arm' }, formatted: `${hostOS()}/arm` },
    { input: 'armel', expected: { os: hostOS(), architecture: 'arm', variant: 'v6' }, formatted: `${hostOS()}/arm/v6` },
    { input: 'armhf', expected: { os: hostOS(), architecture: 'arm' }, formatted: `${hostOS()}/arm` },
    { input: 'Aarch64', expected: { os: hostOS(), architecture: 'arm64' }, formatted: `${hostOS()}/arm64` },
    { input: 'x86_64', expected: { os: hostOS(), architecture: 'amd64' }, formatted: `${hostOS()}/amd64` },
    { input: 'Linux/x86_64', expected: { os: 'linux', architecture: 'amd64' }, formatted: 'linux/amd64' },
    { input: 'i386', expected: { os: hostOS(), architecture: '386' }, formatted: `${hostOS()}/386` },
    { input: 's390x', expected: { os: hostOS(), architecture: 's390x' }, formatted: `${hostOS()}/s390x` },
    { input: 'linux/s390x', expected: { os: 'linux', architecture: 's390x' }, formatted: 'linux/s390x' },
    { input: 'linux', expected: { os: 'linux', architecture: host.architecture, ...(hostArchVariant ? { variant: hostArchVariant } : {}) },
      formatted: ['linux', host.architecture, hostArchVariant ?? ''].filter(Boolean).join('/') },
    { input: 'macOS', expected: { os: 'darwin', architecture: host.architecture, ...(hostArchVariant ? { variant: hostArchVariant } : {}) },
      formatted: ['darwin', host.architecture, hostArchVariant ?? ''].filter(Boolean).join('/') },
    { input: 'linux/amd64', expected: { os: 'linux', architecture: 'amd64' }, formatted: 'linux/amd64' },
  ];
  for (const c of cases) {
    test(c.input, () => {
      const p = parsePlatform(c.input);
      assert.deepEqual(p, c.expected);
      assert.ok(matchPlatform(p, c.expected));
      for (const m of c.matches ?? []) assert.ok(matchPlatform(p, m), `${c.input} matches ${JSON.stringify(m)}`);
      assert.equal(formatPlatform(p), c.formatted);
      assert.equal(formatPlatform(parsePlatform(c.formatted)), c.formatted, 'stable round trip');
    });
  }
  test('OS version and features', () => {
    assert.deepEqual(parsePlatform('windows(10.0.17763+win32k)/amd64'),
      { os: 'windows', architecture: 'amd64', osVersion: '10.0.17763', osFeatures: ['win32k'] });
    assert.deepEqual(parsePlatform('windows(10.0.17763%2Bbuild.42)/amd64'),
      { os: 'windows', architecture: 'amd64', osVersion: '10.0.17763+build.42' });
  });
  // TestParseSelectorInvalid
  for (const input of ['', '/linux/arm', 'linux/arm/', 'linux /arm', 'linux/&arm', 'linux/arm/foo/bar', 'linux/*', 'foo']) {
    test(`rejects ${JSON.stringify(input)}`, () => assert.throws(() => parsePlatform(input), (err: unknown) => {
      assert.ok(err instanceof SlipwayError);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, /: invalid argument$/);
      return true;
    }));
  }
  test('containerd messages', () => {
    assert.throws(() => parsePlatform('foo'), { message: '"foo": unknown operating system or architecture: invalid argument' });
    assert.throws(() => parsePlatform('linux/*'), { message: '"linux/*": wildcards not yet supported: invalid argument' });
    assert.throws(() => parsePlatform('linux/arm/foo/bar'), { message: '"linux/arm/foo/bar": cannot parse platform specifier: invalid argument' });
  });
});

describe('normalisation and matching', () => {
  const arch: Array<[string, string, string, string]> = [
    ['aarch64', '', 'arm64', ''], ['arm64', 'v8', 'arm64', ''], ['arm64', '8', 'arm64', ''], ['arm64', 'v9', 'arm64', 'v9'],
    ['x86_64', '', 'amd64', ''], ['x86-64', 'v1', 'amd64', ''], ['amd64', 'v3', 'amd64', 'v3'], ['i386', 'x', '386', ''],
    ['armhf', '', 'arm', 'v7'], ['armel', '', 'arm', 'v6'], ['arm', '', 'arm', 'v7'], ['arm', '7', 'arm', 'v7'],
    ['arm', '6', 'arm', 'v6'], ['ARM', 'V5', 'arm', 'v5'], ['riscv64', '', 'riscv64', ''],
  ];
  for (const [a, v, ea, ev] of arch) {
    test(`normalizeArch(${a}, ${v})`, () => assert.deepEqual(normalizeArch(a, v), [ea, ev]));
  }
  test('normalizePlatform', () => {
    assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'aarch64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.equal(formatPlatform({ os: '', architecture: 'amd64' }), 'unknown');
  });
  test('mismatches', () => {
    const want = parsePlatform('linux/amd64');
    assert.equal(matchPlatform(want, { os: 'linux', architecture: 'arm64' }), false);
    assert.equal(matchPlatform(want, { os: 'windows', architecture: 'amd64' }), false);
    assert.equal(matchPlatform(want, { os: 'linux', architecture: 'amd64', variant: 'v3' }), false);
    assert.equal(matchPlatform(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' }), false);
    assert.equal(matchPlatform(want, { os: 'linux', architecture: 'x86_64' }), true);
  });
  test('hostPlatform follows process.arch', () => {
    const expected: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le' };
    assert.equal(host.architecture, expected[process.arch] ?? process.arch);
    assert.equal(host.os, process.platform === 'win32' ? 'windows' : process.platform);
    assert.equal(formatPlatform(host), formatPlatform(normalizePlatform(host)), 'host platform is normalised');
  });
});
