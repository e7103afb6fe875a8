/**
 * One vocabulary of error codes: the README documents exactly the codes of ERROR_CODES, and
 * every code akm builds at run time from outside input (Commander's codes, an error from a
 * server) is one of them. Literal codes are checked by the type system; the fuzz tests check
 * what random command lines produce (test/cli/fuzz.test.ts).
 */
import test from 'ava';
import { CommanderError } from 'commander';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { toAkmError } from '../../src/cli/errors.js';
import { ERROR_CODES, ExitCode, isErrorCode } from '../../src/core/errors.js';
import { rebuildError } from '../../src/remote/client.js';
import { documentedErrorCodes } from '../helpers/errorCodes.js';
import { ROOT } from '../helpers/paths.js';

const EXIT_CODES = new Set<number>(Object.values(ExitCode));

test('the README lists every code of ERROR_CODES, and nothing else, each with a documented exit code', (t) => {
  const documented = documentedErrorCodes();
  t.deepEqual(
    ERROR_CODES.filter((c) => !documented.has(c)),
    [],
    'in ERROR_CODES, missing from the README',
  );
  t.deepEqual(
    [...documented.keys()].filter((c) => !isErrorCode(c)),
    [],
    'in the README, not in ERROR_CODES',
  );
  for (const [code, { exit, meaning }] of documented) {
    t.true(EXIT_CODES.has(exit) && exit !== 0, `${code}: exit ${exit}`);
    t.true(meaning.length > 5, `${code} says what it means`);
  }
});

/** Codes Commander can raise that never reach the user as an error, and why. */
const NEVER_REPORTED: Record<string, string> = {
  'commander.helpDisplayed': '--help: exit 0',
  'commander.version': '--version: exit 0',
  'commander.executeSubCommandAsync': 'akm has no stand-alone executable subcommands',
  'commander.error': 'akm never calls command.error()',
  'commander.help': 'a command group without its subcommand: reported as usage',
};

test("every error code of Commander's source becomes the same code in akm's list", (t) => {
  const lib = join(ROOT, 'node_modules', 'commander', 'lib');
  const source = readdirSync(lib)
    .map((f) => readFileSync(join(lib, f), 'utf8'))
    .join('\n');
  const codes = [...new Set(source.match(/'commander\.[A-Za-z]+'/g)!.map((c) => c.slice(1, -1)))];
  t.true(codes.length >= 10, 'found the codes in Commander');
  for (const code of codes) {
    const error = toAkmError(new CommanderError(1, code, 'error: something'));
    t.true(isErrorCode(error.code), code);
    t.is(error.exitCode, ExitCode.usage, code);
    if (code in NEVER_REPORTED) continue;
    const expected = code.replace(/^commander\./, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    t.is<string, string>(error.code, expected, `${code} keeps its own code (add it to ERROR_CODES and the README)`);
  }
});

test('an error from a server carries a listed code and a documented exit code, whatever the server sent', (t) => {
  const wire = fc.record({
    code: fc.oneof(fc.constantFrom(...ERROR_CODES), fc.string(), fc.constantFrom('brand_new_code', 'toString')),
    message: fc.string(),
    exitCode: fc.oneof(fc.constantFrom(...EXIT_CODES), fc.integer()),
  });
  fc.assert(
    fc.property(wire, (w) => {
      const error = rebuildError(w);
      return (
        isErrorCode(error.code) && EXIT_CODES.has(error.exitCode) && (!isErrorCode(w.code) || error.code === w.code)
      );
    }),
  );
  t.is(rebuildError({ code: 'brand_new_code', message: 'm', exitCode: 3 }).code, 'not_found');
  t.is(rebuildError({ code: 'brand_new_code', message: 'm', exitCode: 99 }).code, 'unexpected');
});
