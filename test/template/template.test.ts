/**
 * Template language tests. Expected outputs were produced by Go's
 * text/template (go1.19 locally, and docker 28.2.2's go1.24 for
 * range-over-int / else-with) with docker's function map.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_STRUCT, TemplateError, goFloat, goNilMap, goNilSlice, goStruct, goTime, renderTemplate,
} from '../../src/template/index.js';

const image = goStruct({
  Id: 'sha256:abc',
  RepoTags: ['app:1.0', 'app:latest'],
  Architecture: 'amd64',
  Os: 'linux',
  Size: 1982365,
  Config: goStruct({
    Env: ['A=1', 'B=2'],
    Cmd: ['/bin/sh', '-c', 'echo <hi> & bye'],
    ExposedPorts: { '80/tcp': EMPTY_STRUCT },
    Volumes: goNilMap(),
    Entrypoint: goNilSlice(),
    Labels: { z: 'last', a: 'first' },
    Healthcheck: null,
    WorkingDir: '/',
  }, '*container.Config'),
  RootFS: goStruct({ Type: 'layers', Layers: ['sha256:c8b2', 'sha256:d9e1'] }, 'types.RootFS'),
  Metadata: goStruct({ LastTagTime: goTime('2026-11-23T08:24:52.072707546Z') }, 'types.ImageMetadata'),
}, 'types.ImageInspect');

const cases: Array<[string, string]> = [
  ['{{.Architecture}}', 'amd64'],
  ['{{.Config.Env}}', '[A=1 B=2]'],
  ['{{.Config.ExposedPorts}}', 'map[80/tcp:{}]'],
  ['{{.Config.Volumes}}|{{.Config.Entrypoint}}|{{.Config.Healthcheck}}', 'map[]|[]|<nil>'],
  ['{{.RootFS.Layers}}', '[sha256:c8b2 sha256:d9e1]'],
  ['{{.RootFS}}', '{layers [sha256:c8b2 sha256:d9e1]}'],
  ['{{.Metadata}}', '{2026-11-23 08:24:52.072707546 +0000 UTC}'],
  ['{{printf "%+v" .RootFS}}', '{Type:layers Layers:[sha256:c8b2 sha256:d9e1]}'],
  ['{{.Config.Labels}}', 'map[a:first z:last]'],
  ['{{json .Config}}', '{"Env":["A=1","B=2"],"Cmd":["/bin/sh","-c","echo <hi> & bye"],"ExposedPorts":{"80/tcp":{}},"Volumes":null,"Entrypoint":null,"Labels":{"z":"last","a":"first"},"Healthcheck":null,"WorkingDir":"/"}'],
  ['{{json .Metadata}}', '{"LastTagTime":"2026-11-23T08:24:52.072707546Z"}'],
  ['{{.Size}} {{json .Size}}', '1982365 1982365'],
  ['{{index .RepoTags 1}}|{{index .Config.Labels "a"}}|{{index .Config.Labels "nope"}}', 'app:latest|first|<no value>'],
  ['{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}', '0=app:1.0 1=app:latest '],
  ['{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}', 'a:first;z:last;'],
  ['{{range .Config.Entrypoint}}x{{else}}none{{end}}', 'none'],
  ['{{if .Config.Volumes}}y{{else if .Config.Env}}env{{else}}n{{end}}', 'env'],
  ['{{with .Config}}{{.WorkingDir}}{{end}}{{with .Config.Healthcheck}}x{{else}}-{{end}}', '/-'],
  ['{{$c := .Config}}{{$c.WorkingDir}} {{$.Os}}', '/ linux'],
  ['{{$x := 1}}{{$x = 2}}{{$x}}', '2'],
  ['{{.Os | upper}} {{lower "ÀB"}} {{title "hello wOrld-foo_bar"}}', 'LINUX àb Hello WOrld-Foo_bar'],
  ['{{join .Config.Env ","}}|{{split "a,b,c" ","}}|{{len .RepoTags}}', 'A=1,B=2|[a b c]|2'],
  ['{{truncate "abcdef" 3}}|{{pad "x" 1 2}}|{{pad "" 1 2}}|', 'abc| x  ||'],
  ['{{println 1 "a"}}|{{print 1 2 "a" "b" 3}}', '1 a\n|1 2ab3'],
  ['{{printf "%s-%d-%.2f-%q-%v-%t" "a" 5 3.14159 "q" .RepoTags true}}', 'a-5-3.14-"q"-[app:1.0 app:latest]-true'],
  ['{{eq .Os "linux"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1.5 2.5}} {{eq "a" "b" "a"}}', 'true true true true true false true'],
  ['{{and 1 0 2}}|{{or 0 "" "x"}}|{{not 0}}|{{and .Os .Architecture}}', '0|x|true|amd64'],
  ['{{- "a" -}}   {{- "b"}}  {{"c" -}}  \n x', 'ab  cx'],
  ['{{/* comment */}}a{{- /* c2 */ -}}  b', 'ab'],
  ['{{"x" | printf "%s-%s" "a"}}', 'a-x'],
  ['{{(printf "%s" "x") | len}} {{(1)}}', '1 1'],
  ['{{range split "a,b,c,d" ","}}{{if eq . "b"}}{{continue}}{{end}}{{if eq . "d"}}{{break}}{{end}}{{.}}{{end}}', 'ac'],
  ['{{range 3}}{{.}}{{end}}', '012'],
  ['{{with $x := 1}}{{$x}}{{else with 2}}b{{end}}', '1'],
  ['{{1e6}} {{1.5}} {{0.000001}} {{1e21}} {{123456789.0}} {{-0.0}} {{0x10}} {{\'a\'}} {{1_000}}', '1e+06 1.5 1e-06 1e+21 1.23456789e+08 -0 16 97 1000'],
  ['{{`raw\\n`}} {{"tab\\there"}}', 'raw\\n tab\there'],
  ['{{js "<a\'b\\"c=&>"}}|{{html "<a\'&\\">"}}|{{urlquery "a b&c/é"}}', '\\u003Ca\\\'b\\"c\\u003D\\u0026\\u003E|&lt;a&#39;&amp;&#34;&gt;|a+b%26c%2F%C3%A9'],
  ['{{slice "hello" 1 3}} {{index "abc" 1}} {{len "é"}}', 'el 98 2'],
  ['{{define "x"}}X{{.}}{{end}}a{{template "x" 5}}b', 'aX5b'],
  ['{{goFloat}}', ''],
];

describe('renderTemplate (Go semantics)', () => {
  for (const [src, want] of cases.filter(([s]) => s !== '{{goFloat}}')) {
    test(src, () => assert.equal(renderTemplate(src, image), want));
  }
  test('plain objects are Go maps: missing keys print <no value>, empty map[]', () => {
    assert.equal(renderTemplate('{{.a}}|{{.b}}|{{.m}}', { a: 'x', m: {} }), 'x|<no value>|map[]');
  });
  test('goFloat keeps integral floats as float64', () => {
    assert.equal(renderTemplate('{{.}}', goFloat(1000000)), '1e+06');
    assert.equal(renderTemplate('{{printf "%d" .}}', goFloat(3)), '%!d(float64=3)');
  });
  test('truthiness of empty values', () => {
    const t = '{{if .}}T{{else}}F{{end}}';
    const got = ['', 'x', 0, 1, [], [1], {}, { a: 1 }, null, false, goNilMap(), goNilSlice(), EMPTY_STRUCT]
      .map((v) => renderTemplate(t, v)).join('');
    assert.equal(got, 'FTFTFTFTFFFFT');
  });
});

const errors: Array<[string, string, number]> = [
  ['{{.Foo}', 'template: :1: bad character U+007D \'}\'', 1],
  ['{{if}}', 'template: :1: missing value for if', 1],
  ['a\n{{.X | printf "%d" "a" }', 'template: :2: unexpected "}" in operand', 2],
  ['{{range .}}', 'template: :1: unexpected EOF', 1],
  ['{{$x}}', 'template: :1: undefined variable "$x"', 1],
  ['{{foo}}', 'template: :1: function "foo" not defined', 1],
  ['{{break}}', 'template: :1: {{break}} outside {{range}}', 1],
  ['{{.Foo}}', 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type types.ImageInspect', 1],
  ['{{.Config.Foo}}', 'template: :1:9: executing "" at <.Config.Foo>: can\'t evaluate field Foo in type *container.Config', 1],
  ['{{index .RepoTags 5}}', 'template: :1:2: executing "" at <index .RepoTags 5>: error calling index: index out of range: 5', 1],
  ['{{.Config.Cmd | join ","}}', 'template: :1:21: executing "" at <",">: can\'t handle "," for arg of type []string', 1],
  ['{{upper 5}}', 'template: :1:8: executing "" at <5>: expected string; found 5', 1],
  ['{{eq 1 1.0}}', 'template: :1:2: executing "" at <eq 1 1.0>: error calling eq: incompatible types for comparison', 1],
  ['{{len 3}}', 'template: :1:2: executing "" at <len 3>: error calling len: len of type int', 1],
  ['{{nil}}', 'template: :1:2: executing "" at <nil>: nil is not a command', 1],
  ['x\n  {{.Os.Bad}}', 'template: :2:7: executing "" at <.Os.Bad>: can\'t evaluate field Bad in type string', 2],
  ['é{{.Nope}}', 'template: :1:4: executing "" at <.Nope>: can\'t evaluate field Nope in type types.ImageInspect', 1],
];

describe('errors name the position as Go does', () => {
  for (const [src, goMsg, line] of errors) {
    test(src, () => {
      assert.throws(() => renderTemplate(src, image), (err: unknown) => {
        assert.ok(err instanceof TemplateError);
        assert.equal(err.code, 'TEMPLATE');
        assert.equal(err.goMessage, goMsg);
        // Go names only the line of a parse error; slipway also names the column, in Go's `:line:col:` form.
        const shown = goMsg.replace(/^(template: :\d+)(: )/, `$1:${err.column}$2`);
        assert.equal(err.message, `template parsing error: ${shown}`);
        assert.match(err.message, /^template parsing error: template: :\d+:\d+: /);
        assert.equal(err.line, line);
        return true;
      });
    });
  }
  test('parse errors still carry the column', () => {
    assert.throws(() => renderTemplate('{{.A}} {{.B | 3}}', {}), (err: unknown) => {
      assert.ok(err instanceof TemplateError);
      assert.equal(err.goMessage, 'template: :1: non executable command in pipeline stage 2');
      assert.equal(err.column, 15); // the last token read, as Go's line number
      return true;
    });
  });
  test('missingkey=error reports the key', () => {
    assert.throws(() => renderTemplate('{{.Config.Foo}}', { Config: {} }, { missingKey: 'error' }),
      /template: :1:9: executing "" at <\.Config\.Foo>: map has no entry for key "Foo"/);
  });
});
