/** docker/cli --format handling; expected outputs recorded from docker 28.2.2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goStruct, parseDockerFormat, renderTable } from '../../src/template/index.js';

const headers = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Size: 'SIZE' };
const row = (Repository: string, Tag: string, ID: string, Size: string) =>
  goStruct({ Repository, Tag, ID, Size }, '*formatter.imageContext');
const rows = [
  row('slipway-test/legacy', '1', '9be00a4e595e', '33B'),
  row('slipway-test/base', '1', 'c38385c87aab', '18B'),
];

test('classifies formats like docker', () => {
  assert.deepEqual(parseDockerFormat('table {{.ID}}\\t{{.Tag}}'), { kind: 'table', template: '{{.ID}}\t{{.Tag}}' });
  assert.deepEqual(parseDockerFormat('tablex {{.ID}}'), { kind: 'table', template: 'x {{.ID}}' });
  assert.deepEqual(parseDockerFormat('json'), { kind: 'json' });
  assert.deepEqual(parseDockerFormat('  {{.Tag}}\\n{{.ID}}  '), { kind: 'raw', template: '{{.Tag}}\n{{.ID}}' });
  assert.deepEqual(parseDockerFormat('{{.Tag}}\\\\t'), { kind: 'raw', template: '{{.Tag}}\\\t' });
});

test('table output matches docker images --format', () => {
  const out = renderTable({ format: 'table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}', rows, headers });
  assert.equal(out, 'REPOSITORY            TAG       SIZE\nslipway-test/legacy   1         33B\nslipway-test/base     1         18B\n');
});

test('header uses HeaderFunctions but keeps pad; no tab means no alignment', () => {
  const out = renderTable({ format: 'table {{json .Repository}}\\t{{upper .Tag}}\\t{{pad .ID 2 2}}|', rows: rows.slice(0, 1), headers });
  assert.equal(out, 'REPOSITORY              TAG         IMAGE ID  |\n"slipway-test/legacy"   1           9be00a4e595e  |\n');
});

test('table with a newline in the format and len in the header', () => {
  const out = renderTable({ format: 'table {{len .Repository}}\\t{{.Tag}}\\n{{.ID}}', rows: rows.slice(0, 1), headers });
  assert.equal(out, '10        TAG\nIMAGE ID\n19        1\n9be00a4e595e\n');
});

test('a failing header is printed up to the failure', () => {
  const out = renderTable({ format: 'table {{.Tag}}A{{.Repository.Foo}}B', rows: [], headers });
  assert.equal(out, 'TAGA\n');
});

test('plain templates print one line per row, trimmed; json is sorted and HTML-escaped', () => {
  assert.equal(renderTable({ format: '  {{.Tag}}:{{.ID}}  ', rows, headers }), '1:9be00a4e595e\n1:c38385c87aab\n');
  const json = renderTable({ format: 'json', rows: [row('<none>', '<none>', 'x', '1B')], headers });
  assert.equal(json, '{"ID":"x","Repository":"\\u003cnone\\u003e","Size":"1B","Tag":"\\u003cnone\\u003e"}\n');
});

test('"table" alone selects the default format', () => {
  const out = renderTable({ format: 'table', rows: rows.slice(1), headers, defaultFormat: 'table {{.Repository}}\\t{{.Tag}}' });
  assert.equal(out, 'REPOSITORY          TAG\nslipway-test/base   1\n');
});

test('row errors are template errors naming the row type', () => {
  assert.throws(() => renderTable({ format: '{{.Foo}}', rows, headers }),
    /template parsing error: template: :1:2: executing "" at <\.Foo>: can't evaluate field Foo in type \*formatter\.imageContext/);
});
