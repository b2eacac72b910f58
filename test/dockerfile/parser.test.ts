import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/dockerfile/parser.js';
import { DockerfileError } from '../../src/dockerfile/errors.js';
import { isSlipwayError } from '../../src/errors.js';

function nodes(text: string) {
  return parseDockerfile(text).nodes.map((n) => ({ i: n.instruction, args: n.args, json: n.json, flags: n.flags }));
}

function parseError(text: string, line: number, re: RegExp): void {
  assert.throws(() => parseDockerfile(text), (e: unknown) => {
    assert.ok(e instanceof DockerfileError);
    assert.ok(isSlipwayError(e, 'DOCKERFILE'));
    assert.equal(e.line, line);
    assert.match(e.message, new RegExp(`^Dockerfile:${line}: `));
    assert.match(e.message, re);
    return true;
  });
}

describe('parser directives', () => {
  const cases: [string, string, { name: string; value: string }[], string][] = [
    ['syntax and escape at the top', '# syntax=docker/dockerfile:1\n# escape=`\nFROM a', [
      { name: 'syntax', value: 'docker/dockerfile:1' }, { name: 'escape', value: '`' }], '`'],
    ['spaces and case', '#  ESCAPE  =  `  \nFROM a', [{ name: 'escape', value: '`' }], '`'],
    ['check directive', '# check=skip=JSONArgsRecommended;error=true\nFROM a', [
      { name: 'check', value: 'skip=JSONArgsRecommended;error=true' }], '\\'],
    ['after a comment it is a comment', '# hello\n# escape=`\nFROM a', [], '\\'],
    ['after a blank line it is a comment', '\n# escape=`\nFROM a', [], '\\'],
    ['after an instruction it is a comment', 'FROM a\n# escape=`\nRUN x', [], '\\'],
    ['unknown directive ends the directives', '# foo=bar\n# escape=`\nFROM a', [], '\\'],
    ['BOM before the directive', '\ufeff# escape=`\nFROM a', [{ name: 'escape', value: '`' }], '`'],
  ];
  for (const [name, text, want, esc] of cases) {
    test(name, () => {
      const r = parseDockerfile(text);
      assert.deepEqual(r.directives.map((d) => ({ name: d.name, value: d.value })), want);
      assert.equal(r.escapeToken, esc);
    });
  }
  test('duplicate directive is an error', () => parseError('# escape=`\n# escape=\\\nFROM a', 2, /only one escape parser directive can be used/));
  test('invalid escape token', () => parseError('# escape=x\nFROM a', 1, /invalid escape token 'x' does not match ` or \\/));
});

describe('lines and continuations', () => {
  test('continuation joins lines without trimming the next one', () => {
    const r = parseDockerfile('FROM a\nRUN echo a \\\n  b \\\n c');
    assert.equal(r.nodes[1]?.args[0], 'echo a   b  c');
    assert.equal(r.nodes[1]?.startLine, 2);
    assert.equal(r.nodes[1]?.endLine, 4);
  });
  test('comment lines inside a continuation are dropped', () => {
    const r = parseDockerfile('FROM a\nRUN echo a \\\n# comment\n   # indented\n  b');
    assert.equal(r.nodes[1]?.args[0], 'echo a   b');
    assert.equal(r.warnings.length, 0);
  });
  test('empty continuation lines are accepted with a warning', () => {
    const r = parseDockerfile('FROM a\nRUN echo a \\\n\n  b');
    assert.equal(r.nodes[1]?.args[0], 'echo a   b');
    assert.equal(r.warnings.length, 1);
    assert.equal(r.warnings[0]?.rule, 'NoEmptyContinuation');
    assert.equal(r.warnings[0]?.line, 2);
  });
  test('backtick continuation under # escape=`', () => {
    const r = parseDockerfile('# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo x');
    assert.equal(r.nodes[1]?.args[0], 'dir c:\\   && echo x');
  });
  test('an escaped escape is not a continuation', () => {
    const r = parseDockerfile('FROM a\nRUN echo \\\\\nRUN b');
    assert.equal(r.nodes.length, 3);
  });
  test('continuation at end of file', () => {
    const r = parseDockerfile('FROM a\nRUN echo \\');
    assert.equal(r.nodes[1]?.args[0], 'echo');
  });
  test('instructions are case-insensitive, leading whitespace ignored, CRLF accepted', () => {
    assert.deepEqual(nodes('  from a\r\n\tRuN echo hi\r\n').map((n) => n.i), ['from', 'run']);
    assert.equal(parseDockerfile('FROM a\r\nRUN x\r\n').nodes[1]?.args[0], 'x');
  });
  test('blank lines and comments count for line numbers', () => {
    const r = parseDockerfile('# c\n\nFROM a\n\n# c\nRUN x');
    assert.deepEqual(r.nodes.map((n) => n.startLine), [3, 6]);
  });
  test('file with no instructions', () => parseError('# only a comment\n\n', 2, /file with no instructions/));
});

describe('forms and argument splitting', () => {
  const cases: [string, string, string[], boolean][] = [
    ['exec form', 'CMD ["echo", "hi"]', ['echo', 'hi'], true],
    ['exec form with spaces', 'CMD   [ "a b" ,"c" ]  ', ['a b', 'c'], true],
    ['empty array', 'ENTRYPOINT []', [], true],
    ['single quotes are not JSON: shell form', "CMD ['echo', 'hi']", ["['echo', 'hi']"], false],
    ['broken JSON: shell form', 'CMD ["echo", "hi"', ['["echo", "hi"'], false],
    ['trailing text: shell form', 'RUN ["a"] b', ['["a"] b'], false],
    ['shell form', 'RUN echo "$HOME"  x', ['echo "$HOME"  x'], false],
    ['COPY list', 'COPY a  b\tc', ['a', 'b', 'c'], false],
    ['COPY JSON', 'COPY ["a b", "c"]', ['a b', 'c'], true],
    ['VOLUME list', 'VOLUME /a /b', ['/a', '/b'], false],
    ['FROM words', 'FROM a AS b', ['a', 'AS', 'b'], false],
    ['EXPOSE words', 'EXPOSE 80 443/tcp', ['80', '443/tcp'], false],
    ['USER keeps everything', 'USER  a b ', ['a b'], false],
    ['ARG words with quotes kept', 'ARG a="x y" b', ['a="x y"', 'b'], false],
    ['ENV new form', 'ENV a=1 b="x y"', ['a', '1', 'b', '"x y"'], false],
    ['ENV old form', 'ENV a  x y  z', ['a', 'x y  z'], false],
    ['LABEL with escapes', 'LABEL a=x\\ y', ['a', 'x\\ y'], false],
    ['HEALTHCHECK CMD shell', 'HEALTHCHECK CMD curl -f x', ['CMD', 'curl -f x'], false],
    ['HEALTHCHECK CMD exec', 'HEALTHCHECK CMD ["curl", "x"]', ['CMD', 'curl', 'x'], true],
    ['ONBUILD', 'ONBUILD RUN echo x', ['run', 'echo x'], false],
  ];
  for (const [name, line, args, json] of cases) {
    test(name, () => {
      const n = parseDockerfile(`FROM a\n${line}`).nodes[1];
      assert.deepEqual(n?.args, args);
      assert.equal(n?.json, json);
    });
  }
  test('non-string JSON array is an error, not shell form', () => {
    parseError('FROM a\nCMD ["a", 1]', 2, /arrays must be comprised of strings only/);
  });
  test('ENV without value', () => parseError('FROM a\nENV foo', 2, /ENV must have two arguments/));
  test('LABEL word without =', () => parseError('FROM a\nLABEL a=b c', 2, /can't find = in "c"/));
  test('flags are split from the arguments', () => {
    const n = parseDockerfile('FROM a\nCOPY --from=b --chown="1:2" --link x y').nodes[1];
    assert.deepEqual(n?.flags, ['--from=b', '--chown=1:2', '--link']);
    assert.deepEqual(n?.args, ['x', 'y']);
  });
  test('-- ends the flags', () => {
    const n = parseDockerfile('FROM a\nCOPY --link -- --x y').nodes[1];
    assert.deepEqual(n?.flags, ['--link']);
    assert.deepEqual(n?.args, ['--x', 'y']);
  });
});

describe('heredocs', () => {
  test('RUN heredoc body with line numbers', () => {
    const r = parseDockerfile('FROM a\nRUN <<EOF\necho $HOME\n  x\nEOF\nRUN y');
    const run = r.nodes[1];
    assert.deepEqual(run?.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo $HOME\n  x\n' }]);
    assert.equal(run?.endLine, 5);
    assert.equal(r.nodes[2]?.startLine, 6);
  });
  test('<<- keeps tabs in content but accepts a tab-indented terminator', () => {
    const h = parseDockerfile('FROM a\nRUN <<-EOT\n\techo\n\tEOT').nodes[1]?.heredocs[0];
    assert.equal(h?.chomp, true);
    assert.equal(h?.content, '\techo\n');
  });
  const quoted: [string, string, boolean][] = [
    ['<<EOF', 'EOF', true],
    ['<<"EOF"', 'EOF', false],
    ["<<'EOF'", 'EOF', false],
    ['<<E"O"F', 'EOF', false],
    ['3<<EOF', 'EOF', true],
  ];
  for (const [word, name, expand] of quoted) {
    test(`delimiter ${word}`, () => {
      const h = parseDockerfile(`FROM a\nCOPY ${word} /x\nhi\n${name}`).nodes[1]?.heredocs[0];
      assert.equal(h?.name, name);
      assert.equal(h?.expand, expand);
      assert.equal(h?.content, 'hi\n');
    });
  }
  test('several heredocs on one line, read in order', () => {
    const n = parseDockerfile('FROM a\nCOPY <<A <<B /dst/\na1\nA\nb1\nb2\nB\n').nodes[1];
    assert.deepEqual(n?.heredocs.map((h) => [h.name, h.content]), [['A', 'a1\n'], ['B', 'b1\nb2\n']]);
    assert.equal(n?.endLine, 7);
  });
  test('no heredocs in exec form or in other instructions', () => {
    const r = parseDockerfile('FROM a\nRUN ["cat", "<<EOF"]\nCMD cat <<EOF\nENV x=<<EOF');
    assert.equal(r.nodes.length, 4);
    assert.ok(r.nodes.every((n) => n.heredocs.length === 0));
  });
  test('ONBUILD RUN heredoc', () => {
    const n = parseDockerfile('FROM a\nONBUILD RUN <<EOF\nx\nEOF').nodes[1];
    assert.equal(n?.heredocs[0]?.content, 'x\n');
  });
  test('unterminated heredoc', () => parseError('FROM a\nRUN <<EOF\necho', 2, /unterminated heredoc/));
});
