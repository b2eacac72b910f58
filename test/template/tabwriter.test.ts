/** Tabwriter port: expected outputs produced by Go's text/tabwriter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TAB_ALIGN_RIGHT, TAB_DEBUG, formatTabbed, type TabwriterOptions } from '../../src/template/index.js';

const docker: TabwriterOptions = { minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ', flags: 0 };
const dots: TabwriterOptions = { minwidth: 0, tabwidth: 8, padding: 1, padchar: '.', flags: 0 };

const cases: Array<[string, TabwriterOptions, string]> = [
  ['a\tb\tc\naa\tbbb\tc\naaaa\tb\tcc\n', docker, 'a         b         c\naa        bbb       c\naaaa      b         cc\n'],
  // Go's package doc example: b and c are in distinct columns, d/e in none.
  ['aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n', dots, 'aaaa.bbb.d\naa...b...dd\na....\naa...cccc.eee\n'],
  ['no tabs\nx\ty\nlonger cell\tz\nplain line\nq\tr\n', dots, 'no tabs\nx...........y\nlonger cell.z\nplain line\nq.r\n'],
  ['a\tb\n\nc\td', dots, 'a.b\n\nc.d'],
  ['h1\th2\th3\nv1\tv2\n\tv3\tv4\n', { ...dots, flags: TAB_ALIGN_RIGHT }, '.h1.h2h3\n.v1v2\n....v3v4\n'],
  ['a\tb\tc\naa\tbbb\tc\n', { minwidth: 0, tabwidth: 8, padding: 1, padchar: ' ', flags: TAB_DEBUG }, 'a  |b   |c\naa |bbb |c\n'],
  ['ré\tsumé\n日本語\tx\n', dots, 'ré..sumé\n日本語.x\n'],
  ['a\tb\n', { minwidth: 0, tabwidth: 4, padding: 2, padchar: '\t', flags: 0 }, 'a\tb\n'],
  ['', docker, ''],
];

cases.forEach(([text, opts, want], i) => {
  test(`tabwriter case ${i}`, () => assert.equal(formatTabbed(text, opts), want));
});

test('terminal widths count wide characters twice (docker fork)', () => {
  const out = formatTabbed('日本\tx\nab\ty\n', { ...dots, width: 'terminal' });
  assert.equal(out, '日本.x\nab...y\n');
});
