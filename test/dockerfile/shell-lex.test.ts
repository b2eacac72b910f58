import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { envLookup, processWord, processWords } from '../../src/dockerfile/shell-lex.js';

// Cases ported from BuildKit's frontend/dockerfile/shell/envVarTest (the
// "A" and "U" rows) with the same environment, plus the pattern operators
// (checked against bash where bash and BuildKit agree).
const ENV = envLookup({ PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' });

const WORD_CASES: [string, string][] = [
  ['hello', 'hello'],
  ["he'll'o", 'hello'],
  ["he\\'llo", "he'llo"],
  ['abc\\tdef', 'abctdef'],
  ['"abc\\tdef"', 'abc\\tdef'],
  ['"abc\\\\tdef"', 'abc\\tdef'],
  ["'abc\\tdef'", 'abc\\tdef'],
  ['hello\\', 'hello'],
  ['hello\\\\', 'hello\\'],
  ['"hel\'lo"', "hel'lo"],
  ["'hello\\'", 'hello\\'],
  ["'hello\\there'", 'hello\\there'],
  ["'hello\\\\there'", 'hello\\\\there'],
  ['"\'\'"', "''"],
  ['$.', '$.'],
  ['he$1x', 'hex'],
  ['he$.x', 'he$.x'],
  ['he$pwd.', 'he.'],
  ['he$PWD', 'he/home'],
  ['he\\$PWD', 'he$PWD'],
  ['he\\\\$PWD', 'he\\/home'],
  ['"he\\$PWD"', 'he$PWD'],
  ['"he\\\\$PWD"', 'he\\/home'],
  ['\\${}', '${}'],
  ['\\${}aaa', '${}aaa'],
  ['he\\${}', 'he${}'],
  ['he${hi}', 'he'],
  ['he${hi}xx', 'hexx'],
  ['he${PWD}', 'he/home'],
  ['he${XXX:-000}xx', 'he000xx'],
  ['he${PWD:-000}xx', 'he/homexx'],
  ['he${XXX:-$PWD}xx', 'he/homexx'],
  ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
  ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
  ['he${PWD?}', 'he/home'],
  ['he${PWD:?}', 'he/home'],
  ['he${NULL?}', 'he'],
  ['he${XXX:+${PWD}}xx', 'hexx'],
  ['he${PWD:+${XXX}}xx', 'hexx'],
  ['he${PWD:+${SHELL}}xx', 'hebashxx'],
  ['he${XXX:+000}xx', 'hexx'],
  ['he${PWD:+000}xx', 'he000xx'],
  ["'he${XX}'", 'he${XX}'],
  ['"he${PWD}"', 'he/home'],
  ['"he\'$PWD\'"', "he'/home'"],
  ['"$PWD"', '/home'],
  ["'$PWD'", '$PWD'],
  ["'\\$PWD'", '\\$PWD'],
  ['\'"hello"\'', '"hello"'],
  ["'he\\$PWD'", 'he\\$PWD'],
  ['he${PWD+${PWD}:}xx', 'he/home:xx'],
  ['${KOREAN}', '한국어'],
  ['안녕${KOREAN}', '안녕한국어'],
  // unset vs empty: with and without the colon
  ['${NULL-def}', ''],
  ['${NULL:-def}', 'def'],
  ['${XXX-def}', 'def'],
  ['${NULL+alt}', 'alt'],
  ['${NULL:+alt}', ''],
  ['${XXX+alt}', ''],
  // pattern operators (results as bash gives them)
  ['${PWD#/}', 'home'],
  ['${PWD##*/}', 'home'],
  ['${PWD%/*}', ''],
  ['${PWD%%o*}', '/h'],
  ['${PWD%o*}', '/h'],
  ['${PWD/o/0}', '/h0me'],
  ['${PWD//o/0}', '/h0me'],
  ['${SHELL#?}', 'ash'],
  ['${SHELL%?}', 'bas'],
  ['${PWD/*/x}', 'x'],
  ['${PWD//?/x}', 'xxxxx'],
  ['${SHELL##b*}', ''],
  ['${SHELL/a*/Y}', 'bY'],
  ['${XXX#a}', ''],
  ['${SHELL/x/y}', 'bash'],
  ['$(echo hi)', '$(echo hi)'],
  ['`echo hi`', '`echo hi`'],
];

const ERROR_CASES: [string, RegExp][] = [
  ["he'llo", /matching single-quote/],
  ["he\\\\'llo", /matching single-quote/],
  ['"hello', /matching double-quote/],
  ['"hello\\"', /matching double-quote/],
  ["'hello", /matching single-quote/],
  ['${}', /bad substitution/],
  ['${}aaa', /bad substitution/],
  ['he${}', /bad substitution/],
  ['he${.}', /unsupported modifier/],
  ['he${XXX:YYY}', /unsupported modifier \(:Y\)/],
  ['he${XXX?}', /XXX: is not allowed to be unset/],
  ['he${XXX:?}', /XXX: is not allowed to be unset/],
  ['he${NULL:?}', /NULL: is not allowed to be empty/],
  ['he${XXX:?must be set}', /XXX: must be set/],
  ['he${PWD', /missing '}'/],
  ['he${PWD=000}xx', /unsupported modifier \(=\)/],
  ['${PWD:#x}', /unsupported modifier \(:#\)/],
  ['${PWD/x', /missing '\/' in \$\{\}/],
];

describe('shell lexer: single words (envVarTest)', () => {
  for (const [input, want] of WORD_CASES) {
    test(input, () => assert.equal(processWord(input, ENV), want));
  }
  for (const [input, re] of ERROR_CASES) {
    test(`error: ${input}`, () => {
      assert.throws(() => processWord(input, ENV), (e: Error) => {
        assert.match(e.message, re);
        assert.match(e.message, /^failed to process /);
        return true;
      });
    });
  }
});

describe('shell lexer: words (wordsTest)', () => {
  const env = envLookup({ foo: 'bar', spaced: 'a  b ', empty: '' });
  const cases: [string, string[]][] = [
    ['hello', ['hello']],
    ['hello world', ['hello', 'world']],
    ['  hello   world  ', ['hello', 'world']],
    ['"hello world"', ['hello world']],
    ["'hello  world'", ['hello  world']],
    ['hello\\ world', ['hello world']],
    ['$foo', ['bar']],
    ['x$foo y', ['xbar', 'y']],
    ['$spaced', ['a', 'b']],
    ['"$spaced"', ['a  b ']],
    ['$empty', []],
    ['""', []],
    ['a "" b', ['a', 'b']],
    ['80 443/tcp', ['80', '443/tcp']],
  ];
  for (const [input, want] of cases) {
    test(input, () => assert.deepEqual(processWords(input, env), want));
  }
});

describe('shell lexer: options', () => {
  test('backtick escape token', () => {
    assert.equal(processWord('a`$PWD b\\c', ENV, { escapeToken: '`' }), 'a$PWD b\\c');
    assert.equal(processWord('"x`"y"', ENV, { escapeToken: '`' }), 'x"y');
  });
  test('skipProcessQuotes keeps quotes (heredoc bodies)', () => {
    assert.equal(processWord('echo "$PWD" \'$SHELL\'', ENV, { skipProcessQuotes: true }), 'echo "/home" \'bash\'');
  });
  test('skipUnsetEnv leaves unset references', () => {
    assert.equal(processWord('$PWD $NOPE ${NOPE} ${NOPE:-x}', ENV, { skipUnsetEnv: true }), '/home $NOPE ${NOPE} ${NOPE:-x}');
  });
  test('rawQuotes and rawEscapes keep the characters', () => {
    assert.equal(processWord('"a" \'b\' \\c', ENV, { rawQuotes: true, rawEscapes: true }), '"a" \'b\' \\c');
  });
});
