/** The server's log lines: JSON for machines, text for a person at a terminal, neither able to hurt the reader. */
import test from 'ava';
import { PassThrough } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { jsonLogger, loggerFor, textLogger, type Logger } from '../../src/server/log.js';

const AT = new Date('2026-12-01T18:51:56.699Z');

async function linesOf(make: (stream: PassThrough) => Logger, lines: Parameters<Logger>[0][]): Promise<string> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const log = make(stream);
  for (const line of lines) log(line);
  await nextTurn();
  return text;
}

const request = {
  event: 'request',
  method: 'GET',
  path: '/v1/keys\u001b[2J\u009b31m',
  status: 404,
  tls: false,
  key: null,
  agent: 'curl/8.5 (x86_64)',
  note: undefined,
};

test('JSON lines: the time first, then every field given, one object per line', async (t) => {
  const text = await linesOf((s) => jsonLogger(s, () => AT), [request, {}]);
  const [first, second] = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const { note: _left, ...given } = request;
  t.deepEqual(first, { time: AT.toISOString(), ...given }, 'an undefined field is left out');
  t.deepEqual(second, { time: AT.toISOString() });
});

test('text lines: time of day, event, logfmt fields; values quoted when they must be and never raw control codes', async (t) => {
  const text = await linesOf((s) => textLogger(s, () => AT), [request, { event: 'stopped' }]);
  const [first, second] = text.trimEnd().split('\n');
  const time = AT.toTimeString().slice(0, 8);
  t.is(
    first,
    `${time} request method=GET path=/v1/keys\\x1b[2J\\x9b31m status=404 tls=false key=null agent="curl/8.5 (x86_64)"`,
  );
  t.is(second, `${time} stopped`);
  t.notRegex(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'nothing a terminal would act on');
});

test('loggerFor picks the format', async (t) => {
  t.regex(await linesOf((s) => loggerFor('json', s, () => AT), [{ event: 'x' }]), /^\{"time":/);
  t.regex(await linesOf((s) => loggerFor('text', s, () => AT), [{ event: 'x' }]), /^\d\d:\d\d:\d\d x\n$/);
});
