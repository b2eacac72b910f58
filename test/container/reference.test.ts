/**
 * Container commands against Docker's recorded output
 * (test/fixtures/reference/container-*.txt, scripts/reference-record-containers.sh):
 * the same containers are made in the same order, each recorded command
 * line is run through slipway, and stdout, stderr and the exit status must
 * match byte for byte once run-dependent values are masked on both sides
 * (container IDs, PIDs, relative times; tables are re-aligned after
 * masking) and Docker's "Error response from daemon: X" reads "Error: X".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fixture, parseTable, reference, renderTable, suiteStore, type Reference } from '../helpers/cli.js';

const canRun = process.getuid?.() === 0 && ['/usr/sbin/runc', '/usr/bin/runc'].some((p) => existsSync(p));
const B = 'slipway-test/busybox:latest';
const N = '--network=none';

/** The recording script's steps, in its order: [fixture name] or [setup command line]. */
const STEPS: ({ rec: string } | { setup: string })[] = [
  { rec: 'create' },
  { setup: `run ${N} --name ref-exited ${B} sh -c 'exit 3'` },
  { setup: `run ${N} --name ref-sized ${B} sh -c 'echo hello > /hello'` },
  { setup: `run -d ${N} --name ref-running ${B} sleep 300` },
  { setup: `run -d ${N} --name ref-paused ${B} sleep 300` },
  ...['pause', 'ps', 'ps-a', 'ps-a-s', 'ps-a-q', 'ps-no-trunc', 'ps-format', 'ps-format-table', 'ps-format-json', 'ps-filter-paused',
    'ps-filter-created', 'ps-filter-exited', 'ps-filter-exited-3', 'ps-filter-status-bogus', 'ps-filter-bogus',
    'inspect-state-created', 'inspect-state-exited', 'inspect-state-running', 'inspect-state-paused', 'inspect-missing', 'container-inspect-missing',
    'pause-again', 'pause-exited', 'pause-missing', 'unpause-running', 'rm-paused', 'unpause', 'wait-exited', 'wait-missing'].map((rec) => ({ rec })),
  { setup: `create ${N} --name ref-hello ${B} sh -c 'echo hello; echo oops >&2; exit 5'` },
  ...['start-a', 'start-missing', 'wait-two', 'rm-running', 'rm-missing', 'stop-missing', 'kill-exited', 'logs-missing', 'run-name-conflict',
    'create-name-conflict', 'run-missing-command', 'inspect-nocmd', 'start-nocmd', 'run-runtime-bogus', 'create-runtime-bogus', 'run-runtime-runc',
    'publish-range-mismatch', 'publish-bad-container-port', 'publish-bad-proto', 'publish-bad-host-port', 'publish-bad-ip', 'publish-reversed-range',
    'publish-too-many-colons', 'port-none', 'port-not-published', 'port-bad-spec', 'port-missing', 'rename', 'rename-conflict', 'rename-missing',
    'rename-same', 'top-exited'].map((rec) => ({ rec })),
];

/** Splits a recorded command line as sh would (single and double quotes, backslash escapes in double quotes). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      cur ??= '';
      for (i++; i < line.length && line[i] !== '"'; i++) cur += line[i] === '\\' ? line[++i] : line[i];
    } else if (ch === ' ') {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

const TIME = /(About an? [a-z]+|Less than a second|\d+ (?:second|minute|hour|day|week|month|year)s?)( ago)?/g;
const maskIds = (s: string) => s.replace(/\b[a-f0-9]{64}\b/g, '<ID>').replace(/\b(?!abd4ffa074a5)[a-f0-9]{12}\b/g, '<id>');
const maskTime = (s: string) => s.replace(TIME, (_m, _t: string, ago: string | undefined) => (ago ? '<T> ago' : '<T>'));

/** Masks what differs between runs; tables are split into cells first and re-aligned after masking. */
function normalise(text: string): string {
  const mask = (s: string) => maskTime(maskIds(s));
  if (/^(CONTAINER ID|NAMES|UID) /.test(text)) {
    const t = parseTable(text);
    return renderTable({ headers: t.headers, rows: t.rows.map((r) => r.map(mask)) });
  }
  return mask(text)
    .replace(/"CreatedAt":"[^"]*"/g, '"CreatedAt":"<date>"')
    .replace(/^(running|paused) true (true|false) 0 \d+\|/m, '$1 true $2 0 <pid>|');
}

/** Docker's texts as slipway prints them: no daemon, and `slipway` for `docker` in the CLI's own words. */
function asSlipwayRun(text: string): string {
  return text.replace(/^(docker: )?Error response from daemon: /gm, '$1Error: ').replace(/^docker: /gm, 'slipway: ').replace(/'docker (\w+) --help'/g, "'slipway $1 --help'");
}

describe('container commands match the Docker reference', { skip: !canRun && 'needs root and runc', timeout: 180_000 }, () => {
  after(async () => {
    const ids = (await store.run(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await store.run(['rm', '-f', ...ids]);
  });
  const store = suiteStore();
  before(async () => {
    await store.ok(['load', '-i', fixture('docker-save-busybox.tar')]);
  });

  test('every recorded command, in the recording order', async () => {
    const mismatches: string[] = [];
    for (const step of STEPS) {
      if ('setup' in step) {
        await store.run(shellWords(step.setup));
        continue;
      }
      const ref: Reference = reference(`container-${step.rec}`);
      const args = shellWords(ref.command);
      assert.equal(args.shift(), 'docker');
      if (step.rec === 'pause') await new Promise((r) => setTimeout(r, 1100));
      const got = await store.run(args);
      const want = { stdout: normalise(ref.stdout), stderr: normalise(asSlipwayRun(ref.stderr)), exit: ref.exit };
      const have = { stdout: normalise(got.stdout), stderr: normalise(got.stderr), exit: got.status };
      try {
        assert.deepEqual(have, want);
      } catch {
        mismatches.push(`${step.rec}: ${ref.command}\n  want ${JSON.stringify(want)}\n  have ${JSON.stringify(have)}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });
});
