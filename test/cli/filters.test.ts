import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseFilters, checkFilterKeys, getBoolFilter, labelMatches, matchKVList, matchLabelFilters,
  getTimestamp, parseTimestamps, parseFilterTime,
} from '../../src/cli/filters.js';
import { SlipwayError } from '../../src/errors.js';

function throwsWith(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SlipwayError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

describe('parseFilters / checkFilterKeys', () => {
  test('repeated keys collect values; keys lower-cased and trimmed', () => {
    const f = parseFilters(['dangling=true', ' Label = a=b ', 'label=c', 'label=c', '', 'until=24h']);
    assert.deepEqual([...f], [['dangling', ['true']], ['label', ['a=b', 'c']], ['until', ['24h']]]);
  });
  test('appends to previous filters without changing them', () => {
    const prev = parseFilters(['a=1']);
    const next = parseFilters(['a=2'], prev);
    assert.deepEqual(prev.get('a'), ['1']);
    assert.deepEqual(next.get('a'), ['1', '2']);
  });
  test('an empty value is kept', () => assert.deepEqual(parseFilters(['label=']).get('label'), ['']));
  test('no "=" is docker/cli\'s flag error', () => {
    throwsWith(() => parseFilters(['dangling']), 'USAGE',
      'invalid argument "dangling" for "-f, --filter" flag: bad format of filter (expected name=value)');
  });
  test('unsupported keys are the daemon\'s error', () => {
    const f = parseFilters(['reference=x', 'foo=bar', 'zzz=1']);
    throwsWith(() => checkFilterKeys(f, ['dangling', 'label', 'reference', 'until']), 'INVALID_ARGUMENT', "Invalid filter 'foo'");
    assert.doesNotThrow(() => checkFilterKeys(f, ['reference', 'foo', 'zzz']));
  });
  test('boolean filters', () => {
    assert.equal(getBoolFilter(parseFilters([]), 'dangling', false), false);
    assert.equal(getBoolFilter(parseFilters(['dangling=true']), 'dangling', false), true);
    assert.equal(getBoolFilter(parseFilters(['dangling=1']), 'dangling', false), true);
    assert.equal(getBoolFilter(parseFilters(['dangling=false']), 'dangling', true), false);
    assert.equal(getBoolFilter(parseFilters(['dangling=true', 'dangling=1']), 'dangling', false), true);
    throwsWith(() => getBoolFilter(parseFilters(['dangling=maybe']), 'dangling', false), 'INVALID_ARGUMENT', "Invalid filter 'dangling=[maybe]'");
    throwsWith(() => getBoolFilter(parseFilters(['dangling=true', 'dangling=false']), 'dangling', false), 'INVALID_ARGUMENT', "Invalid filter 'dangling=[true false]'");
  });
});

describe('labels', () => {
  const labels = { 'com.example.vendor': 'ACME', version: '1.0', empty: '', eq: 'a=b' };
  const cases: Array<[string, boolean]> = [
    ['com.example.vendor', true], ['com.example.vendor=ACME', true], ['com.example.vendor=acme', false],
    ['version=1.0', true], ['version=2', false], ['missing', false], ['empty', true], ['empty=', true],
    ['eq=a=b', true], ['eq=a', false], ['version!=1.0', false],
  ];
  for (const [value, expected] of cases) test(value, () => assert.equal(labelMatches(labels, value), expected));
  test('undefined labels never match', () => assert.equal(labelMatches(undefined, 'a'), false));
  test('MatchKVList: all values must match; no values always match', () => {
    assert.equal(matchKVList(parseFilters([]), 'label', {}), true);
    assert.equal(matchKVList(parseFilters(['label=version']), 'label', {}), false);
    assert.equal(matchKVList(parseFilters(['label=version', 'label=version=1.0']), 'label', labels), true);
    assert.equal(matchKVList(parseFilters(['label=version', 'label=missing']), 'label', labels), false);
  });
  test('prune label / label! semantics', () => {
    assert.equal(matchLabelFilters(parseFilters(['label!=version=1.0']), labels), false);
    assert.equal(matchLabelFilters(parseFilters(['label!=version=2']), labels), true);
    assert.equal(matchLabelFilters(parseFilters(['label!=keep']), { other: 'x' }), true);
    assert.equal(matchLabelFilters(parseFilters(['label=version', 'label!=keep']), labels), true);
    assert.equal(matchLabelFilters(parseFilters(['label=keep']), labels), false);
  });
});

// Expectations produced by moby's GetTimestamp under Go 1.19 with now = 1704164645.123 in a +05:30 zone.
describe('until= timestamps', () => {
  const now = new Date(1704164645123);
  const withIST = (fn: () => void): void => {
    const saved = process.env['TZ'];
    process.env['TZ'] = 'Asia/Kolkata';
    try { fn(); } finally { if (saved === undefined) delete process.env['TZ']; else process.env['TZ'] = saved; }
  };
  const ok: Array<[string, string]> = [
    ['2006-01-02T15:04:05.999999999+07:00', '1136189045.999999999'],
    ['2006-01-02T15:04:05.999999999Z', '1136214245.999999999'],
    ['2006-01-02T15:04:05.999999999', '1136194445.999999999'],
    ['2006-01-02T15:04:05Z', '1136214245.000000000'],
    ['2006-01-02T15:04:05', '1136194445.000000000'],
    ['2006-01-02T15:04Z', '1136214240.000000000'],
    ['2006-01-02T15:04+00:00', '1136214240.000000000'],
    ['2006-01-02T15:04-00:00', '1136214240.000000000'],
    ['2006-01-02T15:04', '1136194440.000000000'],
    ['2006-01-02T15Z', '1136214000.000000000'],
    ['2006-01-02T15+00:00', '1136214000.000000000'],
    ['2006-01-02T15-00:00', '1136214000.000000000'],
    ['2006-01-02T15', '1136194200.000000000'],
    ['2006-01-02T1Z', '1136163600.000000000'],
    ['2006-01-02T1', '1136143800.000000000'],
    ['2006-01-02+00:00', '1136160000.000000000'],
    ['2006-01-02-00:00', '1136160000.000000000'],
    ['2006-01-02-00:01', '1136160060.000000000'],
    ['2006-01-02Z', '1136160000.000000000'],
    ['2006-01-02', '1136140200.000000000'],
    ['2015-05-13T20:39:09Z', '1431549549.000000000'],
    ['1136073600', '1136073600'],
    ['1136073600.000000001', '1136073600.000000001'],
    ['1m', '1704164585'],
    ['1.5h', '1704159245'],
    ['1h30m', '1704159245'],
    ['24h', '1704078245'],
    ['0', '0'],
  ];
  for (const [value, expected] of ok) {
    test(value, () => withIST(() => assert.equal(getTimestamp(value, now), expected)));
  }
  const bad: Array<[string, string]> = [
    ['2006-01-02T15:04:0Z', 'parsing time "2006-01-02T15:04:0Z" as "2006-01-02T15:04:05Z07:00": cannot parse "0Z" as "05"'],
    ['2006-01-02T15:04:0', 'parsing time "2006-01-02T15:04:0" as "2006-01-02T15:04:05": cannot parse "0" as "05"'],
    ['2006-01-02T15:0Z', 'parsing time "2006-01-02T15:0Z" as "2006-01-02T15:04Z07:00": cannot parse "0Z" as "04"'],
    ['2006-01-02T15:0', 'parsing time "2006-01-02T15:0" as "2006-01-02T15:04": cannot parse "0" as "04"'],
    ['2006-01-02TZ', 'parsing time "2006-01-02TZ" as "2006-01-02T15Z07:00": cannot parse "Z" as "15"'],
    ['2006-01-02T', 'parsing time "2006-01-02T" as "2006-01-02T15": cannot parse "" as "15"'],
    ['invalid', 'failed to parse value as time or duration: "invalid"'],
    ['', 'failed to parse value as time or duration: ""'],
    ['2006-13-02', 'parsing time "2006-13-02": month out of range'],
    ['2006-02-30', 'parsing time "2006-02-30": day out of range'],
    ['2006-01-02T25:00', 'parsing time "2006-01-02T25:00": hour out of range'],
    ['2006-01-02T10:61', 'parsing time "2006-01-02T10:61": minute out of range'],
    ['2006-01-02x', 'parsing time "2006-01-02x": extra text: "x"'],
    ['1136073600.bar', 'failed to parse value as time or duration: "1136073600.bar"'],
    ['2024-01-02T03:04:05.1234567891Z', 'parsing time "2024-01-02T03:04:05.1234567891Z" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse "1Z" as "Z07:00"'],
  ];
  for (const [value, message] of bad) {
    test(`rejects ${JSON.stringify(value)}`, () => withIST(() => throwsWith(() => getTimestamp(value, now), 'INVALID_ARGUMENT', message)));
  }
  // moby timestamp_test.go TestParseTimestamps
  test('parseTimestamps', () => {
    assert.deepEqual(parseTimestamps('1136073600', 0), { seconds: 1136073600, nanos: 0 });
    assert.deepEqual(parseTimestamps('1136073600.000000001', 0), { seconds: 1136073600, nanos: 1 });
    assert.deepEqual(parseTimestamps('1136073600.0000000010', 0), { seconds: 1136073600, nanos: 1 });
    assert.deepEqual(parseTimestamps('1136073600.00000001', 0), { seconds: 1136073600, nanos: 10 });
    assert.deepEqual(parseTimestamps('', -1), { seconds: -1, nanos: 0 });
    assert.throws(() => parseTimestamps('foo.bar', 0), SlipwayError);
    throwsWith(() => parseTimestamps('1136073600.bar', 0), 'INVALID_ARGUMENT', 'strconv.ParseInt: parsing "bar": invalid syntax');
  });
  test('parseFilterTime gives epoch milliseconds', () => withIST(() => {
    assert.equal(parseFilterTime('24h', now), 1704078245000);
    assert.equal(parseFilterTime('2015-05-13T20:39:09Z', now), 1431549549000);
    assert.equal(parseFilterTime('1136073600.5', now), 1136073600500);
    assert.equal(parseFilterTime('2006-01-02', now), 1136140200000);
  }));
});
