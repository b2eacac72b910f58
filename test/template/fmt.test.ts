/** Go fmt port: expected strings from Go's fmt (docker 28.2.2 / go1.19). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goFloat, sprintf } from '../../src/template/index.js';

const f = goFloat;
const cases: Array<[string, unknown[], string]> = [
  ['%05s|%.2f|%.0f|%.1e|%.0e', ['ab', 0.125, 2.5, 0.25, 2.5], '000ab|0.12|2|2.5e-01|2e+00'],
  ['%5.1q|%-5d|%+d|% d|%x|%X|%#x|%o|%b|%c|%U', ['héllo', 3, 5, 5, -255, 255, 255, 8, 5, 65, 65], '  "h"|3    |+5| 5|-ff|FF|0xff|10|101|A|U+0041'],
  ['%8.3e|%+.2e|%g|%G|%.3g|%10.4g|%-8v|', [123456.789, -1.5, 1e-7, f(1e21), 3.14159, f(1234567), true], '1.235e+05|-1.50e+00|1e-07|1E+21|3.14| 1.235e+06|true    |'],
  ['%d %s', [], '%!d(MISSING) %!s(MISSING)'],
  ['%d', [1, 2], '1%!(EXTRA int=2)'],
  ['%[2]d %[1]s %*d|%.*f|%!|%z', ['a', 2, 4, 7, 2, 3.14159, 5], '2 a  4|%!f(int=0000002)|%!!(float64=3.14159)|%!z(int=5)'],
  ['%', [], '%!(NOVERB)'],
  ['%-05d|%05d|%07.2f|%+07.2f|%.3s|%5.2s|%t|%t', [-42, -42, -3.14159, 3.14159, 'abcdef', 'abcdef', true, 5], '-42  |-0042|-003.14|+003.14|abc|   ab|true|%!t(int=5)'],
  ['%v %d %s %q', [['a=1'], ['a'], ['b'], ['c']], '[a=1] [%!d(string=a)] [b] ["c"]'],
  ['%q|%x|% x|%s|%d', [5, 'hé', 'hé', true, null], "'\\x05'|68c3a9|68 c3 a9|%!s(bool=true)|%!d(<nil>)"],
  ['%v %v %.3f %e %g %g', [f(3), 1e100, 1e-10, f(0), f(100000), f(1000000)], '3 1e+100 0.000 0.000000e+00 100000 1e+06'],
  ['%q %+q %#q %#x', ['héllo\n', 'héllo', 'back', 'hi'], '"héllo\\n" "h\\u00e9llo" `back` 0x6869'],
  ['%c|%q|%U|%#U', [0x1f600, 120, 0x1f600, 0x41], "😀|'x'|U+1F600|U+0041 'A'"],
  ['%v|%s', [{ b: 2, a: [1, 'x'] }, { k: null }], 'map[a:[1 x] b:2]|map[k:%!s(<nil>)]'],
  ['%6.2f%%', [99.5], ' 99.50%'],
];

for (const [format, args, want] of cases) {
  test(`sprintf ${format}`, () => assert.equal(sprintf(format, args), want));
}
