import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  humanSize, humanSizeWithPrecision, bytesSize, formatGoG, humanDuration, createdSince, formatRFC3339,
  formatGoTime, formatRFC3339Nano, parseGoDuration, parseGoDurationNanos, goQuote,
} from '../../src/cli/humanize.js';
import { SlipwayError } from '../../src/errors.js';

const KiB = 1024;
const MiB = KiB * 1024;
const GiB = MiB * 1024;
const TiB = GiB * 1024;
const PiB = TiB * 1024;

// docker/go-units size_test.go
describe('sizes', () => {
  const human: Array<[number, string]> = [
    [1000, '1kB'], [1024, '1.024kB'], [1000000, '1MB'], [1048576, '1.049MB'], [2 * 1000 * 1000, '2MB'],
    [3.42 * 1e9, '3.42GB'], [5.372 * 1e12, '5.372TB'], [2.22 * 1e15, '2.22PB'], [10000000000000 * 1e15, '1e+04YB'],
    [0, '0B'], [999, '999B'], [1062500, '1.062MB'], [1063500, '1.063MB'],
  ];
  for (const [n, s] of human) test(`humanSize(${n})`, () => assert.equal(humanSize(n), s));
  const binary: Array<[number, string]> = [
    [1024, '1KiB'], [1024 * 1024, '1MiB'], [1048576, '1MiB'], [2 * MiB, '2MiB'], [3.42 * GiB, '3.42GiB'],
    [5.372 * TiB, '5.372TiB'], [2.22 * PiB, '2.22PiB'], [KiB * KiB * KiB * KiB * KiB * PiB, '1.049e+06YiB'],
  ];
  for (const [n, s] of binary) test(`bytesSize(${n})`, () => assert.equal(bytesSize(n), s));
  test('precision 3, as docker images / history / ps -s print SIZE', () => {
    assert.equal(humanSizeWithPrecision(4261550, 3), '4.26MB');
    assert.equal(humanSizeWithPrecision(77800000, 3), '77.8MB');
    assert.equal(humanSizeWithPrecision(1234567890, 3), '1.23GB');
    assert.equal(humanSizeWithPrecision(0, 3), '0B');
    assert.equal(humanSizeWithPrecision(999500, 3), '1e+03kB');
    assert.equal(humanSizeWithPrecision(999499, 3), '999kB');
    assert.equal(humanSizeWithPrecision(5, 3), '5B');
  });
  test('Go %g formatting', () => {
    const cases: Array<[number, number, string]> = [
      [0.0001234, 3, '0.000123'], [0.00001234, 3, '1.23e-05'], [123456, 3, '1.23e+05'], [2.5, 1, '2'],
      [3.5, 1, '4'], [100, 3, '100'], [1e21, 4, '1e+21'], [-1.5, 4, '-1.5'], [0.1, 4, '0.1'], [1 / 3, 4, '0.3333'],
    ];
    for (const [x, p, s] of cases) assert.equal(formatGoG(x, p), s, `%.${p}g of ${x}`);
  });
});

// docker/go-units duration_test.go
describe('humanDuration', () => {
  const S = 1000;
  const M = 60 * S;
  const H = 60 * M;
  const day = 24 * H;
  const week = 7 * day;
  const month = 30 * day;
  const year = 365 * day;
  const cases: Array<[number, string]> = [
    [450, 'Less than a second'], [1 * S, '1 second'], [45 * S, '45 seconds'], [46 * S, '46 seconds'],
    [59 * S, '59 seconds'], [60 * S, 'About a minute'], [3 * M, '3 minutes'], [35 * M, '35 minutes'],
    [35 * M + 40 * S, '35 minutes'], [45 * M, '45 minutes'], [45 * M + 40 * S, '45 minutes'], [46 * M, '46 minutes'],
    [59 * M, '59 minutes'], [1 * H, 'About an hour'], [1 * H + 29 * M, 'About an hour'], [1 * H + 31 * M, '2 hours'],
    [1 * H + 59 * M, '2 hours'], [3 * H, '3 hours'], [3 * H + 29 * M, '3 hours'], [3 * H + 31 * M, '4 hours'],
    [3 * H + 59 * M, '4 hours'], [3 * H + 60 * M, '4 hours'], [24 * H, '24 hours'], [1 * day + 12 * H, '36 hours'],
    [2 * day, '2 days'], [7 * day, '7 days'], [13 * day + 5 * H, '13 days'], [2 * week, '2 weeks'],
    [2 * week + 4 * day, '2 weeks'], [3 * week, '3 weeks'], [4 * week, '4 weeks'], [4 * week + 3 * day, '4 weeks'],
    [1 * month, '4 weeks'], [1 * month + 2 * week, '6 weeks'], [2 * month, '2 months'], [2 * month + 2 * week, '2 months'],
    [3 * month, '3 months'], [3 * month + 1 * week, '3 months'], [5 * month + 2 * week, '5 months'],
    [13 * month, '13 months'], [23 * month, '23 months'], [24 * month, '24 months'], [24 * month + 2 * week, '2 years'],
    [3 * year + 2 * month, '3 years'], [-5 * S, 'Less than a second'],
  ];
  for (const [ms, s] of cases) test(`${ms} ms`, () => assert.equal(humanDuration(ms), s));
  test('createdSince', () => {
    const now = Date.UTC(2024, 0, 15, 12, 0, 0);
    assert.equal(createdSince(now - 2 * week, now), '2 weeks ago');
    assert.equal(createdSince(new Date(now - 70 * S), new Date(now)), 'About a minute ago');
    assert.equal(createdSince(now, now), 'Less than a second ago');
  });
});

describe('time formats', () => {
  const t = Date.UTC(2017, 0, 1, 12, 0, 3);
  const saved = process.env['TZ'];
  const withTZ = (tz: string, fn: () => void): void => {
    process.env['TZ'] = tz;
    try { fn(); } finally { if (saved === undefined) delete process.env['TZ']; else process.env['TZ'] = saved; }
  };
  test('RFC3339 as docker history -H=false prints it (golden: 2017-01-01T12:00:03Z)', () => {
    assert.equal(formatRFC3339(t, { utc: true }), '2017-01-01T12:00:03Z');
    assert.equal(formatRFC3339(t + 999, { utc: true }), '2017-01-01T12:00:03Z');
    withTZ('UTC', () => assert.equal(formatRFC3339(new Date(t)), '2017-01-01T12:00:03Z'));
    withTZ('Asia/Kolkata', () => assert.equal(formatRFC3339(t), '2017-01-01T17:30:03+05:30'));
    withTZ('America/New_York', () => assert.equal(formatRFC3339(t), '2017-01-01T07:00:03-05:00'));
  });
  test('Go time.String() as docker images {{.CreatedAt}} prints it', () => {
    assert.equal(formatGoTime(t, { utc: true }), '2017-01-01 12:00:03 +0000 UTC');
    assert.equal(formatGoTime(t + 500, { utc: true }), '2017-01-01 12:00:03.5 +0000 UTC');
    withTZ('UTC', () => assert.equal(formatGoTime(t), '2017-01-01 12:00:03 +0000 UTC'));
    withTZ('America/New_York', () => assert.equal(formatGoTime(t), '2017-01-01 07:00:03 -0500 EST'));
  });
  test('RFC3339Nano as docker inspect prints Created', () => {
    const cases: Array<[string, string]> = [
      ['2024-01-02T03:04:05.123456789Z', '2024-01-02T03:04:05.123456789Z'],
      ['2024-01-02T03:04:05.120000000Z', '2024-01-02T03:04:05.12Z'],
      ['2024-01-02T03:04:05.000000000Z', '2024-01-02T03:04:05Z'],
      ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05Z'],
      ['2024-01-02T03:04:05.5+00:00', '2024-01-02T03:04:05.5Z'],
      ['2024-01-02T03:04:05.25-07:00', '2024-01-02T03:04:05.25-07:00'],
    ];
    for (const [i, o] of cases) assert.equal(formatRFC3339Nano(i), o);
    assert.equal(formatRFC3339Nano(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 100))), '2024-01-02T03:04:05.1Z');
    assert.throws(() => formatRFC3339Nano('yesterday'), SlipwayError);
  });
});

// Go time_test.go parseDurationTests
describe('parseGoDuration', () => {
  const ok: Array<[string, bigint]> = [
    ['0', 0n], ['5s', 5_000_000_000n], ['30s', 30_000_000_000n], ['1478s', 1478_000_000_000n], ['-5s', -5_000_000_000n],
    ['+5s', 5_000_000_000n], ['-0', 0n], ['+0', 0n], ['5.0s', 5_000_000_000n], ['5.6s', 5_600_000_000n],
    ['5.s', 5_000_000_000n], ['.5s', 500_000_000n], ['1.004s', 1_004_000_000n], ['100.00100s', 100_001_000_000n],
    ['10ns', 10n], ['11us', 11_000n], ['12µs', 12_000n], ['12μs', 12_000n], ['13ms', 13_000_000n],
    ['15m', 900_000_000_000n], ['16h', 57_600_000_000_000n], ['3h30m', 12_600_000_000_000n],
    ['10.5s4m', 250_500_000_000n], ['-2m3.4s', -123_400_000_000n], ['1h2m3s4ms5us6ns', 3_723_004_005_006n],
    ['39h9m14.425s', 140_954_425_000_000n], ['52763797000ns', 52_763_797_000n],
    ['0.3333333333333333333h', 1_200_000_000_000n], ['9007199254740993ns', 9007199254740993n],
    ['9223372036854775807ns', 9223372036854775807n], ['9223372036854775.807us', 9223372036854775807n],
    ['-9223372036854775808ns', -9223372036854775808n],
    ['1.5h', 5_400_000_000_000n], ['24h', 86_400_000_000_000n],
  ];
  for (const [s, ns] of ok) test(s, () => assert.equal(parseGoDurationNanos(s), ns));
  const bad: Array<[string, string]> = [
    ['', 'time: invalid duration ""'], ['3', 'time: missing unit in duration "3"'], ['-', 'time: invalid duration "-"'],
    ['s', 'time: invalid duration "s"'], ['.', 'time: invalid duration "."'], ['-.', 'time: invalid duration "-."'],
    ['.s', 'time: invalid duration ".s"'], ['+.s', 'time: invalid duration "+.s"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'], ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
    ['9223372036854775.808us', 'time: invalid duration "9223372036854775.808us"'],
    ['3000000h', 'time: invalid duration "3000000h"'],
    ['9223372036854s775ms807us', 'time: invalid duration "9223372036854s775ms807us"'],
  ];
  for (const [s, message] of bad) {
    test(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseGoDuration(s), (err: unknown) => {
      assert.ok(err instanceof SlipwayError);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.message, message);
      return true;
    }));
  }
  test('milliseconds', () => {
    assert.equal(parseGoDuration('24h'), 86_400_000);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('1.5h'), 5_400_000);
    assert.equal(parseGoDuration('10m'), 600_000);
    assert.equal(parseGoDuration('1500us'), 1.5);
  });
  test('goQuote escapes like Go', () => {
    assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(goQuote('1µ'), '"1\\xc2\\xb5"');
  });
});
