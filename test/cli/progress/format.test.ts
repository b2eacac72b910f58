/** Number formatting of the progress display: Go's %.Nf (values checked against Python's correctly rounded '%.*f', as Go rounds). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goFixed, logOffset, seconds } from '../../../src/cli/progress/trace.js';

test('goFixed rounds the exact binary value half to even, as Go fmt does', () => {
  const cases: Array<[number, number, string]> = [
    [0.25, 1, '0.2'], [0.75, 1, '0.8'], [0.35, 1, '0.3'], [0.05, 1, '0.1'], [1.25, 1, '1.2'], [0.15, 1, '0.1'],
    [0.125, 2, '0.12'], [12.345, 2, '12.35'], [10.125, 2, '10.12'], [99.995, 2, '100.00'], [0.0005, 3, '0.001'],
    [2.5, 0, '2'], [3.5, 0, '4'], [123.45, 1, '123.5'], [0, 1, '0.0'], [-0.25, 1, '-0.2'],
  ];
  for (const [v, p, want] of cases) assert.equal(goFixed(v, p), want, `${v} %.${p}f`);
});

test('seconds and log offsets', () => {
  assert.equal(seconds(400), '0.4s');
  assert.equal(seconds(-5), '0.0s');
  assert.deepEqual([88, 9_999, 10_000, 99_994, 100_000].map(logOffset), ['0.088', '9.999', '10.00', '99.99', '100.0']);
});
