/**
 * The audit trail on a real store: every change recorded (never a secret), listed with filters
 * and paging, and verified — clean, then after each kind of tampering done directly in the
 * store behind akm's back: edit, delete (middle and end), insert (end and middle), reorder,
 * the head removed, and a rollback of the whole trail caught by an external anchor.
 */
import type { ExecutionContext } from 'ava';
import { DeniedError, UsageError } from '../../src/core/errors.js';
import type { LocalService } from '../../src/service/local/service.js';
import { auditMac, headTag, type AuditRow } from '../../src/store/audit.js';
import { actingAs } from '../helpers/acting.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { Clock, HOUR, keyInput, keysOf, refusal } from '../helpers/service.js';
import { tempStore, type RawStore, type TempStore } from '../helpers/store.js';

interface Scenario {
  store: TempStore;
  clock: Clock;
  records: number;
  secrets: string[];
  keyIds: { svc: string; temp: string };
  open(): Promise<LocalService>;
  /** run SQL on the closed store, behind akm's back, in one transaction */
  tamper(...statements: string[]): Promise<void>;
  raw: RawStore;
}

/** A store with a dozen records of every kind of change; closed, ready to be tampered with. */
async function scenario(t: ExecutionContext, engine: Engine): Promise<Scenario> {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const clock = new Clock(new Date()); // after the tenant.init record, which tempStore writes at the real time
  const open = async () => {
    const service = await store.open(clock.now);
    t.teardown(() => service.close());
    return service;
  };
  const s = await open();
  const step = () => clock.advance(HOUR);
  await s.addUser('alice@acme.test', 'Alice');
  step();
  await s.createGroup('Deployers');
  step();
  const svc = await s.createKey(keyInput({ name: 'svc', owner: 'alice@acme.test', roles: ['ReadOnly'] }));
  step();
  await s.extendKey(svc.accessKeyId, { kind: 'days', days: 90 });
  step();
  await s.assignKey(svc.accessKeyId, { addGroups: ['Deployers'], addRoles: [], removeGroups: [], removeRoles: [] });
  step();
  const rotated = await s.rotateKey(svc.accessKeyId, HOUR);
  step();
  await s.setKeyStatus(svc.accessKeyId, 'inactive');
  step();
  const temp = await s.createKey(keyInput({ name: 'temp' }));
  step();
  await s.deleteKey(temp.accessKeyId);
  step();
  await s.addGroupMember('Deployers', 'alice@acme.test');
  await s.close();
  const raw = await store.raw();
  t.teardown(() => raw.close());
  const tamper = (...statements: string[]) =>
    raw.store.write(null, async (q) => {
      for (const statement of statements) await q.run(statement);
    });
  return {
    store,
    clock,
    records: 11,
    secrets: [svc.secretKey, rotated.secretKey, temp.secretKey],
    keyIds: { svc: svc.accessKeyId, temp: temp.accessKeyId },
    open,
    tamper,
    raw,
  };
}

const problems = async (service: LocalService, expectHead?: string) =>
  (await service.verifyAudit({ expectHead })).problems.map((p) => `${p.kind}@${p.seq}: ${p.message}`);

perEngine(
  'every change is recorded with time, actor, action, target, details and source; never a secret',
  async (t, engine) => {
    const { clock, secrets, keyIds, open, raw } = await scenario(t, engine);
    const s = await open();
    const page = await s.listAudit({ limit: 100 });
    t.deepEqual(
      page.items.map((r) => r.action),
      [
        'group.add-member',
        'key.delete',
        'key.create',
        'key.deactivate',
        'key.rotate',
        'key.assign',
        'key.extend',
        'key.create',
        'group.create',
        'user.add',
        'tenant.init',
      ],
    );
    t.is(page.next, undefined);
    const [newest] = page.items;
    t.like(newest, {
      seq: 11,
      tenantId: 'acme',
      actor: 'admin@acme.test',
      action: 'group.add-member',
      target: 'Deployers',
      source: 'test',
      at: clock.now().toISOString(),
    });
    t.deepEqual(newest!.details, { user: 'alice@acme.test' });
    const rotate = page.items.find((r) => r.action === 'key.rotate')!;
    t.is(rotate.target, keyIds.svc);
    t.deepEqual(Object.keys(rotate.details).sort(), ['grace', 'name', 'previousSecretValidUntil']);
    // no secret in any record, in any column, in any encoding
    const everything = JSON.stringify(await raw.all('SELECT * FROM audit'));
    for (const secret of secrets) {
      for (const form of [secret, Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')])
        t.false(everything.includes(form));
    }
    t.notRegex(everything, /akms_/);
  },
);

perEngine('filters: since, key (by id, or by name even once deleted), actor; limit and paging', async (t, engine) => {
  const { keyIds, open } = await scenario(t, engine);
  const s = await open();
  const all = (await s.listAudit()).items;
  const since = all.find((r) => r.action === 'key.deactivate')!.at;
  t.deepEqual(
    (await s.listAudit({ since })).items.map((r) => r.action),
    ['group.add-member', 'key.delete', 'key.create', 'key.deactivate'],
  );
  t.deepEqual(
    (await s.listAudit({ key: keyIds.svc })).items.map((r) => r.action),
    ['key.deactivate', 'key.rotate', 'key.assign', 'key.extend', 'key.create'],
  );
  t.deepEqual(
    (await s.listAudit({ key: 'SVC' })).items.map((r) => r.target),
    Array(5).fill(keyIds.svc),
  );
  t.deepEqual(
    (await s.listAudit({ key: 'temp' })).items.map((r) => r.action),
    ['key.delete', 'key.create'],
    'a deleted key is found by its name',
  );
  t.is((await s.listAudit({ actor: 'ADMIN@acme.test' })).items.length, 11);
  t.is((await s.listAudit({ actor: 'alice@acme.test' })).items.length, 0);

  const seen: number[] = [];
  let after: string | undefined;
  do {
    const page = await s.listAudit({ limit: 4, after });
    seen.push(...page.items.map((r) => r.seq!));
    after = page.next;
  } while (after);
  t.deepEqual(seen, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  for (const bad of [{ limit: 0 }, { limit: 1001 }, { since: 'yesterday-ish' }, { after: 'x' }]) {
    await refusal(t, () => s.listAudit(bad), { instanceOf: UsageError, exitCode: 2 });
  }
});

perEngine(
  'reading the trail needs audit:read; verifying it, or reading its head, an administrator',
  async (t, engine) => {
    const { open } = await scenario(t, engine);
    const s = await open();
    const keyManager = await actingAs(s, 'alice@acme.test', ['KeyManager']);
    await refusal(t, () => keyManager.listAudit(), { instanceOf: DeniedError, exitCode: 5 });
    await refusal(t, () => keyManager.verifyAudit(), { instanceOf: DeniedError, exitCode: 5 });
    const reader = await actingAs(s, null, ['ReadOnly']);
    t.true((await reader.listAudit({ limit: 1 })).items.length === 1);
    // The chain holds the records about canary keys, which only administrators may know of.
    for (const whole of [() => reader.verifyAudit(), () => reader.auditHead()])
      await refusal(t, whole, { instanceOf: DeniedError, exitCode: 5, code: 'admin_required' });
    t.true((await s.verifyAudit()).ok);
  },
);

perEngine('a clean trail verifies, and names its head as an anchor', async (t, engine) => {
  const { open, records } = await scenario(t, engine);
  const result = await (await open()).verifyAudit();
  t.true(result.ok);
  t.is(result.records, records);
  t.regex(result.head ?? '', new RegExp(`^${records}:[A-Za-z0-9_-]{43}$`));
  t.deepEqual(result.problems, []);
});

perEngine('an edited record is named', async (t, engine) => {
  const { open, tamper } = await scenario(t, engine);
  await tamper(`UPDATE audit SET details = replace(details, '}', ',"to":"2099-01-01T00:00:00.000Z"}') WHERE seq = 4`);
  const s = await open();
  const result = await s.verifyAudit();
  t.false(result.ok);
  t.deepEqual(await problems(s), ['edited@4: record #4 was edited: its content no longer matches its MAC']);
});

perEngine('an edited actor, and an edit that also replaces the MAC, are named', async (t, engine) => {
  const { open, tamper } = await scenario(t, engine);
  await tamper(
    `UPDATE audit SET actor = 'mallory@evil.test' WHERE seq = 7`,
    `UPDATE audit SET action = 'key.activate', mac = 'AAAA' WHERE seq = 9`,
  );
  t.deepEqual(await problems(await open()), [
    'edited@7: record #7 was edited: its content no longer matches its MAC',
    'edited@9: record #9 was edited: its content and its MAC were both replaced',
  ]);
});

perEngine('a deleted record is named, in the middle and at the end', async (t, engine) => {
  const { open, tamper, records } = await scenario(t, engine);
  await tamper('DELETE FROM audit WHERE seq = 5');
  t.deepEqual(await problems(await open()), [
    'deleted@5: record #5 was deleted: record #6 chains to a record that is no longer there',
  ]);
  await tamper(`DELETE FROM audit WHERE seq >= ${records - 1}`);
  t.deepEqual(await problems(await open()), [
    'deleted@5: record #5 was deleted: record #6 chains to a record that is no longer there',
    `deleted@${records - 1}: records #${records - 1}-#${records} were deleted from the end of the trail`,
  ]);
});

perEngine('a deletion hidden by renumbering the rest is still named', async (t, engine) => {
  const { open, tamper, records } = await scenario(t, engine);
  await tamper(
    'DELETE FROM audit WHERE seq = 3',
    'UPDATE audit SET seq = -seq WHERE seq > 3',
    'UPDATE audit SET seq = -seq - 1 WHERE seq < 0',
    `UPDATE audit_heads SET seq = ${records - 1}`,
  );
  t.deepEqual(await problems(await open()), [
    `deleted@3: record #3 was deleted: record #4 chains to a record that is no longer there`,
    `reordered@3: records #4-#${records} were renumbered: they are stored as #3-#${records - 1}`,
    `head@${records - 1}: the sealed head of the chain was altered`,
  ]);
});

perEngine('an inserted record is named, at the end and in the middle', async (t, engine) => {
  const { open, tamper, records } = await scenario(t, engine);
  const forged = (seq: number, prevSeq: number) =>
    `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
     SELECT ${seq}, 'acme', '2026-05-01T12:00:00.000Z', 'admin@acme.test', 'user.add', 'mallory@evil.test', '{}', 'test', mac, 'forged-mac'
       FROM audit WHERE seq = ${prevSeq}`;
  await tamper(forged(records + 1, records));
  t.deepEqual(await problems(await open()), [
    `inserted@${records + 1}: record #${records + 1} was inserted: it has no valid MAC and the chain does not pass through it`,
  ]);

  // make room in the middle by renumbering, and slip a record in
  await tamper(
    `DELETE FROM audit WHERE seq = ${records + 1}`,
    'UPDATE audit SET seq = -seq WHERE seq >= 6',
    'UPDATE audit SET seq = -seq + 1 WHERE seq < 0',
    forged(6, 5),
  );
  t.deepEqual(await problems(await open()), [
    'inserted@6: record #6 was inserted: it has no valid MAC and the chain does not pass through it',
    `reordered@7: records #6-#${records} were renumbered: they are stored as #7-#${records + 1}`,
  ]);
});

perEngine('a copied record is named as inserted', async (t, engine) => {
  const { open, tamper, records } = await scenario(t, engine);
  await tamper(
    `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
     SELECT ${records + 1}, tenant_id, at, actor, action, target, details, source, prev_mac, mac FROM audit WHERE seq = 2`,
  );
  t.deepEqual(await problems(await open()), [
    `inserted@${records + 1}: record #${records + 1} was inserted: it is a copy of record #2`,
  ]);
});

perEngine('reordered records are named', async (t, engine) => {
  const { open, tamper } = await scenario(t, engine);
  await tamper(
    'UPDATE audit SET seq = -1 WHERE seq = 3',
    'UPDATE audit SET seq = 3 WHERE seq = 8',
    'UPDATE audit SET seq = 8 WHERE seq = -1',
  );
  t.deepEqual(await problems(await open()), [
    'reordered@3: record #8 was moved: it is stored as #3',
    'reordered@8: record #3 was moved: it is stored as #8',
  ]);
  await tamper(
    'UPDATE audit SET seq = -1 WHERE seq = 3',
    'UPDATE audit SET seq = 3 WHERE seq = 8',
    'UPDATE audit SET seq = 8 WHERE seq = -1',
  ); // put back
  await tamper(
    'UPDATE audit SET seq = -1 WHERE seq = 5',
    'UPDATE audit SET seq = 5 WHERE seq = 6',
    'UPDATE audit SET seq = 6 WHERE seq = -1',
  ); // neighbours
  t.deepEqual(await problems(await open()), [
    'reordered@5: record #6 was moved: it is stored as #5',
    'reordered@6: record #5 was moved: it is stored as #6',
  ]);
});

perEngine('tampering stays visible after akm goes on writing', async (t, engine) => {
  const { open, tamper, records } = await scenario(t, engine);
  await tamper(`DELETE FROM audit WHERE seq = ${records}`);
  const s = await open();
  await s.addUser('bob@acme.test', 'Bob'); // chains on from the sealed head, not from the new last row
  t.deepEqual(await problems(s), [
    `deleted@${records}: record #${records} was deleted: record #${records + 1} chains to a record that is no longer there`,
  ]);
  await s.close();

  await tamper(
    `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
     SELECT ${records + 2}, tenant_id, at, 'mallory@evil.test', action, target, details, source, mac, 'forged' FROM audit WHERE seq = ${records + 1}`,
  );
  const again = await open();
  await again.addUser('carol@acme.test', 'Carol');
  t.deepEqual(await problems(again), [
    `deleted@${records}: record #${records} was deleted: record #${records + 1} chains to a record that is no longer there`,
    `inserted@${records + 2}: record #${records + 2} was inserted: it has no valid MAC and the chain does not pass through it`,
  ]);
});

perEngine('a removed or forged head is reported', async (t, engine) => {
  const { open, tamper, records } = await scenario(t, engine);
  await tamper('DELETE FROM audit_heads');
  t.deepEqual(await problems(await open()), [
    `head@${records}: the sealed head of the chain is missing: records may have been deleted from the end`,
  ]);
  await tamper(
    `DELETE FROM audit WHERE seq = ${records}`,
    `INSERT INTO audit_heads (tenant_id, seq, mac, tag) SELECT tenant_id, seq, mac, 'made-up' FROM audit WHERE seq = ${records - 1}`,
  );
  t.deepEqual(await problems(await open()), [`head@${records - 1}: the sealed head of the chain was altered`]);
});

/** The trail as it is now, to be put back later: what restoring a backup of the store does to it. */
async function saveTrail(raw: RawStore): Promise<() => Promise<void>> {
  const rows = await raw.all<AuditRow>('SELECT * FROM audit ORDER BY seq');
  const head = await raw.all('SELECT * FROM audit_heads');
  return () =>
    raw.store.write(null, async (q) => {
      await q.run('DELETE FROM audit');
      await q.run('DELETE FROM audit_heads');
      for (const row of rows)
        await q.run(
          `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
           VALUES (@seq, @tenant_id, @at, @actor, @action, @target, @details, @source, @prev_mac, @mac)`,
          { ...row },
        );
      for (const h of head)
        await q.run('INSERT INTO audit_heads (tenant_id, seq, mac, tag) VALUES (@tenant_id, @seq, @mac, @tag)', h);
    });
}

perEngine(
  'a rollback of the whole trail is invisible inside the store, and caught by an anchor kept outside',
  async (t, engine) => {
    const { open, records, raw } = await scenario(t, engine);
    const restore = await saveTrail(raw);
    const s = await open();
    const earlier = (await s.verifyAudit()).head!;
    await s.addUser('bob@acme.test', 'Bob');
    await s.addUser('carol@acme.test', 'Carol');
    const anchor = (await s.verifyAudit()).head!;
    t.true((await s.verifyAudit({ expectHead: earlier })).ok, 'an older anchor is still in the chain');
    await s.close();

    await restore();
    const rolledBack = await open();
    t.true((await rolledBack.verifyAudit()).ok, 'consistent in itself');
    t.deepEqual(await problems(rolledBack, anchor), [
      `deleted@${records + 2}: record #${records + 2} named by the expected head is missing: the trail was cut short or rewritten`,
    ]);
    const forgedAnchor = `${records}:${'A'.repeat(43)}`;
    t.deepEqual(await problems(rolledBack, forgedAnchor), [
      `head@${records}: record #${records} does not match the expected head: the trail was rewritten`,
    ]);
    await refusal(t, () => rolledBack.verifyAudit({ expectHead: 'latest' }), {
      instanceOf: UsageError,
      exitCode: 2,
      code: 'bad_anchor',
    });
  },
);

/** `count` genuine records chained on from the head, written in a few big statements (appending one by one is slow on a network store). */
async function bulkAppend(raw: RawStore, key: Buffer, count: number): Promise<void> {
  await raw.store.write(null, async (q) => {
    const head = (await q.get<{ seq: number; mac: string }>(
      "SELECT seq, mac FROM audit_heads WHERE tenant_id = 'acme'",
    ))!;
    let previous = head;
    for (let done = 0; done < count;) {
      const rows: AuditRow[] = [];
      for (; done < count && rows.length < 500; done++) {
        const i = done;
        const base = {
          seq: previous.seq + 1,
          tenant_id: 'acme',
          at: new Date(Date.UTC(2026, 5, 1, 0, 0, i)).toISOString(),
          actor: 'admin@acme.test',
          action: 'key.extend',
          target: `K${i}`,
          details: JSON.stringify({ i }),
          source: 'bulk',
          prev_mac: previous.mac,
        };
        const row = { ...base, mac: auditMac(key, base) };
        rows.push(row);
        previous = row;
      }
      const params: Record<string, string | number | null> = {};
      const values = rows.map((row, r) => {
        for (const [column, value] of Object.entries(row)) params[`${column}${r}`] = value;
        return `(${Object.keys(row)
          .map((column) => `@${column}${r}`)
          .join(', ')})`;
      });
      await q.run(
        `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac) VALUES ${values.join(', ')}`,
        params,
      );
    }
    await q.run("UPDATE audit_heads SET seq = @seq, mac = @mac, tag = @tag WHERE tenant_id = 'acme'", {
      seq: previous.seq,
      mac: previous.mac,
      tag: headTag(key, 'acme', previous.seq, previous.mac),
    });
  });
}

perEngine('verification streams a long clean chain and still names one deletion in it', async (t, engine) => {
  const { store, open, raw } = await scenario(t, engine);
  const s = await open();
  await bulkAppend(raw, keysOf(store).audit, 20_000);
  let started = process.hrtime.bigint();
  const clean = await s.verifyAudit();
  const cleanMs = Number(process.hrtime.bigint() - started) / 1e6;
  t.true(clean.ok);
  t.is(clean.records, 20_011);
  await raw.run('DELETE FROM audit WHERE seq = 12345');
  started = process.hrtime.bigint();
  t.deepEqual(await problems(s), [
    'deleted@12345: record #12345 was deleted: record #12346 chains to a record that is no longer there',
  ]);
  const brokenMs = Number(process.hrtime.bigint() - started) / 1e6;
  t.log(
    `20,011 records: clean chain verified in ${cleanMs.toFixed(0)} ms, broken one diagnosed in ${brokenMs.toFixed(0)} ms`,
  );
});
