/**
 * Schema migrations, keyed on PRAGMA user_version. Each step runs inside the one immediate
 * transaction that also bumps user_version, so a crash leaves the old schema or the new one.
 * Append new steps; never edit a released one.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
}

export const migrations: Migration[] = [
  {
    version: 1,
    description: 'tenants, people, roles, keys, assignments, audit trail',
    up(db) {
      db.exec(`
        CREATE TABLE meta (
          key   TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;

        CREATE TABLE tenants (
          id         TEXT PRIMARY KEY,
          name       TEXT NOT NULL,
          operator   TEXT NOT NULL,
          created_at TEXT NOT NULL
        ) STRICT;

        CREATE TABLE users (
          id         INTEGER PRIMARY KEY,
          tenant_id  TEXT NOT NULL REFERENCES tenants(id),
          email      TEXT NOT NULL COLLATE NOCASE,
          name       TEXT NOT NULL DEFAULT '',
          created_at TEXT NOT NULL,
          UNIQUE (tenant_id, email)
        ) STRICT;

        CREATE TABLE groups (
          id         INTEGER PRIMARY KEY,
          tenant_id  TEXT NOT NULL REFERENCES tenants(id),
          name       TEXT NOT NULL COLLATE NOCASE,
          builtin    INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL,
          UNIQUE (tenant_id, name)
        ) STRICT;

        CREATE TABLE roles (
          id         INTEGER PRIMARY KEY,
          tenant_id  TEXT NOT NULL REFERENCES tenants(id),
          name       TEXT NOT NULL COLLATE NOCASE,
          builtin    INTEGER NOT NULL DEFAULT 0,
          created_at TEXT NOT NULL,
          UNIQUE (tenant_id, name)
        ) STRICT;

        CREATE TABLE role_permissions (
          role_id    INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
          permission TEXT NOT NULL,
          PRIMARY KEY (role_id, permission)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE group_members (
          group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
          user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          PRIMARY KEY (group_id, user_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX group_members_user ON group_members(user_id);

        CREATE TABLE group_roles (
          group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
          role_id  INTEGER NOT NULL REFERENCES roles(id) ON DELETE RESTRICT,
          PRIMARY KEY (group_id, role_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX group_roles_role ON group_roles(role_id);

        CREATE TABLE keys (
          id                   TEXT PRIMARY KEY,
          tenant_id            TEXT NOT NULL REFERENCES tenants(id),
          name                 TEXT NOT NULL,
          type                 TEXT NOT NULL CHECK (type IN ('access', 'api')),
          status               TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
          owner_id             INTEGER REFERENCES users(id) ON DELETE RESTRICT,
          secret_sealed        BLOB NOT NULL,
          secret_digest        BLOB NOT NULL,
          previous_sealed      BLOB,
          previous_digest      BLOB,
          previous_valid_until TEXT,
          expires_at           TEXT,
          created_at           TEXT NOT NULL,
          created_by           TEXT NOT NULL,
          modified_at          TEXT NOT NULL,
          modified_by          TEXT NOT NULL,
          last_used_at         TEXT
        ) STRICT;
        -- A name is unique per owner (tenant-level keys share the owner slot 0).
        CREATE UNIQUE INDEX keys_name ON keys(tenant_id, coalesce(owner_id, 0), name COLLATE NOCASE);
        CREATE INDEX keys_owner ON keys(owner_id);
        CREATE INDEX keys_listing ON keys(tenant_id, created_at, id);
        CREATE INDEX keys_expiry ON keys(tenant_id, expires_at);

        CREATE TABLE key_groups (
          key_id   TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
          group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,
          PRIMARY KEY (key_id, group_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX key_groups_group ON key_groups(group_id);

        CREATE TABLE key_roles (
          key_id  TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
          role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE RESTRICT,
          PRIMARY KEY (key_id, role_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX key_roles_role ON key_roles(role_id);

        -- Tamper-evident: each record's MAC covers its fields and the previous record's MAC.
        CREATE TABLE audit (
          seq       INTEGER PRIMARY KEY,
          tenant_id TEXT NOT NULL,
          at        TEXT NOT NULL,
          actor     TEXT NOT NULL,
          action    TEXT NOT NULL,
          target    TEXT,
          details   TEXT NOT NULL,
          source    TEXT NOT NULL,
          prev_mac  TEXT NOT NULL,
          mac       TEXT NOT NULL
        ) STRICT;
        CREATE INDEX audit_tenant_at ON audit(tenant_id, at);
      `);
    },
  },
  {
    version: 2,
    description: 'bell notifications, expiry notices, mail outbox, sealed audit head',
    up(db) {
      db.exec(`
        -- The bell inbox. A removed user's inbox goes with them.
        CREATE TABLE notifications (
          id        INTEGER PRIMARY KEY,
          tenant_id TEXT NOT NULL REFERENCES tenants(id),
          user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          at        TEXT NOT NULL,
          action    TEXT NOT NULL,
          key_id    TEXT,
          key_name  TEXT,
          actor     TEXT NOT NULL,
          message   TEXT NOT NULL,
          read_at   TEXT
        ) STRICT;
        CREATE INDEX notifications_inbox ON notifications(user_id, id);

        -- One row per key and expiry date that has been planned for mail: the once-only rule.
        -- No foreign key: the notice outlives a deleted key, and a new date re-arms it.
        CREATE TABLE expiry_notices (
          key_id     TEXT NOT NULL,
          expires_at TEXT NOT NULL,
          tenant_id  TEXT NOT NULL,
          planned_at TEXT NOT NULL,
          PRIMARY KEY (key_id, expires_at)
        ) STRICT, WITHOUT ROWID;

        -- Mail waiting to be delivered, delivered, or failed (kept, with its error, for a retry).
        CREATE TABLE outbox (
          id              INTEGER PRIMARY KEY,
          tenant_id       TEXT NOT NULL,
          kind            TEXT NOT NULL,
          key_id          TEXT NOT NULL,
          expires_at      TEXT NOT NULL,
          recipient       TEXT NOT NULL COLLATE NOCASE,
          payload         TEXT NOT NULL,
          state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
          attempts        INTEGER NOT NULL DEFAULT 0,
          created_at      TEXT NOT NULL,
          claim_token     TEXT,
          lease_until     TEXT,
          last_attempt_at TEXT,
          last_error      TEXT,
          sent_at         TEXT,
          message_id      TEXT,
          UNIQUE (kind, key_id, expires_at, recipient)
        ) STRICT;
        CREATE INDEX outbox_due ON outbox(tenant_id, state, id);

        -- The newest audit record, sealed with the audit key: deleting records from the end
        -- of the chain leaves this pointing past the last one.
        CREATE TABLE audit_head (
          id  INTEGER PRIMARY KEY CHECK (id = 1),
          seq INTEGER NOT NULL,
          mac TEXT NOT NULL,
          tag TEXT NOT NULL
        ) STRICT;

        -- The head can only be sealed with the master key, which migrations do not have: the
        -- first run that derives the key seals the chain as it stands (see sealPendingHead).
        INSERT INTO meta (key, value) SELECT 'audit_head_pending', 'v2' WHERE EXISTS (SELECT 1 FROM audit);
      `);
    },
  },
  {
    version: 3,
    description: 'who deactivated a key: an administrator or not',
    up(db) {
      db.exec(`
        -- A key an administrator deactivated is re-activated only by an administrator.
        ALTER TABLE keys ADD COLUMN deactivated_by_admin INTEGER NOT NULL DEFAULT 0
          CHECK (deactivated_by_admin IN (0, 1));
        -- Who deactivated the keys that are inactive now is not known: only an administrator
        -- re-activates them (the safe side).
        UPDATE keys SET deactivated_by_admin = 1 WHERE status = 'inactive';
      `);
    },
  },
  {
    version: 4,
    description: 'integrity MACs on authorization rows, replay tokens, failure counters, audit chains per tenant',
    up(db) {
      db.exec(`
        -- MACs over the rows that decide authentication and authorization (store/integrity.ts).
        -- The previous secret of a rotation has a MAC of its own, so erasing it after its grace
        -- needs no key.
        ALTER TABLE keys ADD COLUMN mac BLOB;
        ALTER TABLE keys ADD COLUMN grace_mac BLOB;
        ALTER TABLE users ADD COLUMN mac BLOB;
        ALTER TABLE groups ADD COLUMN mac BLOB;
        ALTER TABLE roles ADD COLUMN mac BLOB;
        -- Every write erases the graces that have ended: this keeps that lookup an index probe.
        CREATE INDEX keys_grace_end ON keys(previous_valid_until) WHERE previous_valid_until IS NOT NULL;
        -- Migrations have no master key: the first run that has it seals existing rows.
        INSERT INTO meta (key, value) SELECT 'integrity_pending', 'v4' WHERE EXISTS (SELECT 1 FROM users);

        -- Accepted signed requests (a hash of the nonce or signature), until the clock check
        -- would refuse them anyway: shared by every server on the store, and kept across restarts.
        CREATE TABLE replay_tokens (
          token      BLOB PRIMARY KEY,
          expires_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX replay_tokens_expiry ON replay_tokens(expires_at);

        -- Failed sign-ins per minute, per client address and per (access key id, address):
        -- each server adds its counts in batches, and reads the sum every server wrote.
        CREATE TABLE auth_failures (
          scope  TEXT NOT NULL,
          minute INTEGER NOT NULL,
          count  INTEGER NOT NULL,
          PRIMARY KEY (scope, minute)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX auth_failures_minute ON auth_failures(minute);

        -- One chain per tenant, each with its own sealed head. The single chain of schema 2
        -- stays as audit_v2 until the first run with the master key has verified it and
        -- re-chained its records per tenant (store/auditUpgrade.ts).
        DROP INDEX audit_tenant_at;
        ALTER TABLE audit RENAME TO audit_v2;
        ALTER TABLE audit_head RENAME TO audit_head_v2;
        CREATE TABLE audit (
          tenant_id TEXT NOT NULL,
          seq       INTEGER NOT NULL,
          at        TEXT NOT NULL,
          actor     TEXT NOT NULL,
          action    TEXT NOT NULL,
          target    TEXT,
          details   TEXT NOT NULL,
          source    TEXT NOT NULL,
          prev_mac  TEXT NOT NULL,
          mac       TEXT NOT NULL,
          PRIMARY KEY (tenant_id, seq)
        ) STRICT;
        CREATE INDEX audit_tenant_at ON audit(tenant_id, at);
        CREATE TABLE audit_heads (
          tenant_id TEXT PRIMARY KEY,
          seq       INTEGER NOT NULL,
          mac       TEXT NOT NULL,
          tag       TEXT NOT NULL
        ) STRICT, WITHOUT ROWID;
      `);
    },
  },
  {
    version: 5,
    description: 'key descriptions and secret dates, tenant lifetime policies',
    up(db) {
      db.exec(`
        ALTER TABLE keys ADD COLUMN description TEXT NOT NULL DEFAULT '';
        -- When the current secret was made: at creation, or at the last rotation.
        ALTER TABLE keys ADD COLUMN secret_created_at TEXT;

        -- One lifetime policy per tenant; each \`policy set\` makes a new version, whose
        -- reminders before enforcement (days before it, as a JSON list) are sent once each.
        CREATE TABLE policies (
          tenant_id         TEXT PRIMARY KEY REFERENCES tenants(id),
          version           INTEGER NOT NULL,
          max_lifetime_days INTEGER,
          never_expires     TEXT NOT NULL CHECK (never_expires IN ('admins', 'nobody')),
          rotate_every_days INTEGER,
          enforce_on        TEXT NOT NULL,
          set_at            TEXT NOT NULL,
          set_by            TEXT NOT NULL,
          reminded          TEXT NOT NULL DEFAULT '[]'
        ) STRICT;

        -- \`akm list --sort\` by expiry or last use reads these in order instead of sorting every key.
        CREATE INDEX keys_sort_expiry ON keys(tenant_id, coalesce(expires_at, '9999-12-31T23:59:59.999Z'), id);
        CREATE INDEX keys_sort_last_use ON keys(tenant_id, coalesce(last_used_at, ''), id);
      `);
      // The best known date of each existing secret: its key's last rotation in the audit trail
      // (still in audit_v2 until the first run with the master key re-chains it), else creation.
      const trails = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'audit_v2'").get()
        ? ['audit', 'audit_v2']
        : ['audit'];
      const rotated = trails.map(
        (trail) =>
          `coalesce((SELECT max(at) FROM ${trail} a WHERE a.action = 'key.rotate' AND a.target = keys.id), '')`,
      );
      db.exec(`UPDATE keys SET secret_created_at = max(created_at, ${rotated.join(', ')})`);
    },
  },
  {
    version: 6,
    description: 'change notifications for the caches of other servers (PostgreSQL)',
    // Nothing on SQLite: a server learns of other processes' commits from PRAGMA data_version.
    up() {},
  },
  {
    version: 7,
    description: 'who uses a key: sources per secret, automatic graces, brownouts, canary keys, webhooks',
    up(db) {
      db.exec(`
        -- canary: 1 for a canary key (NULL otherwise: existing rows keep their MACs, which leave
        -- NULLs out). inactive_until: the end of a brownout. Both under the key's MAC.
        ALTER TABLE keys ADD COLUMN canary INTEGER CHECK (canary = 1);
        ALTER TABLE keys ADD COLUMN inactive_until TEXT;
        -- Which secret a use was made with: 1 at creation, +1 per rotation.
        ALTER TABLE keys ADD COLUMN secret_generation INTEGER NOT NULL DEFAULT 1;
        -- Who made the last rotation (told when its grace ends by itself); when is secret_created_at.
        ALTER TABLE keys ADD COLUMN rotated_by TEXT;
        -- An automatic grace: its quiet period, and when it runs out unless the old secret is
        -- used (under the grace MAC, with previous_valid_until as its cap).
        ALTER TABLE keys ADD COLUMN grace_quiet_ms INTEGER;
        ALTER TABLE keys ADD COLUMN previous_quiet_until TEXT;
        CREATE INDEX keys_quiet_end ON keys(previous_quiet_until) WHERE previous_quiet_until IS NOT NULL;

        -- The last 20 distinct sources per secret (generation) and kind: a use, an attempt refused
        -- during a brownout, an attempt on a canary. '' stands for "none" (a key column cannot be NULL).
        CREATE TABLE key_sources (
          key_id     TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
          generation INTEGER NOT NULL,
          kind       TEXT NOT NULL CHECK (kind IN ('use', 'refused', 'canary')),
          service    TEXT NOT NULL,
          address    TEXT NOT NULL,
          user_agent TEXT NOT NULL,
          via        TEXT NOT NULL,
          first_seen TEXT NOT NULL,
          last_seen  TEXT NOT NULL,
          count      INTEGER NOT NULL,
          PRIMARY KEY (key_id, generation, kind, service, address, user_agent, via)
        ) STRICT, WITHOUT ROWID;

        -- Graces that ended by themselves, noted by the (keyless) erase for the service to audit
        -- and announce. No foreign key: the key may be deleted before that.
        CREATE TABLE grace_ends (
          key_id    TEXT NOT NULL,
          tenant_id TEXT NOT NULL,
          reason    TEXT NOT NULL CHECK (reason IN ('quiet', 'cap')),
          ended_at  TEXT NOT NULL,
          PRIMARY KEY (key_id, ended_at)
        ) STRICT, WITHOUT ROWID;

        -- A canary key's alarm: every attempt counted; alerts at most every ten minutes.
        CREATE TABLE canary_alarms (
          key_id          TEXT PRIMARY KEY REFERENCES keys(id) ON DELETE CASCADE,
          tenant_id       TEXT NOT NULL,
          attempts        INTEGER NOT NULL DEFAULT 0,
          unalerted       INTEGER NOT NULL DEFAULT 0,
          last_attempt_at TEXT,
          last_alert_at   TEXT
        ) STRICT, WITHOUT ROWID;

        -- Webhook endpoints; the signing secret sealed like a key's secret.
        CREATE TABLE webhooks (
          id              TEXT PRIMARY KEY,
          tenant_id       TEXT NOT NULL REFERENCES tenants(id),
          url             TEXT NOT NULL,
          events          TEXT NOT NULL,
          secret_sealed   BLOB NOT NULL,
          created_at      TEXT NOT NULL,
          created_by      TEXT NOT NULL,
          last_attempt_at TEXT,
          last_event_type TEXT,
          last_ok         INTEGER,
          last_status     INTEGER,
          last_error      TEXT
        ) STRICT;
        CREATE INDEX webhooks_tenant ON webhooks(tenant_id, created_at);

        -- One row per event and webhook, queued with the change; claimed under a lease to send.
        CREATE TABLE webhook_deliveries (
          id              INTEGER PRIMARY KEY,
          tenant_id       TEXT NOT NULL,
          webhook_id      TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
          event_id        TEXT NOT NULL,
          event_type      TEXT NOT NULL,
          payload         TEXT NOT NULL,
          state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'given_up')),
          attempts        INTEGER NOT NULL DEFAULT 0,
          created_at      TEXT NOT NULL,
          next_attempt_at TEXT NOT NULL,
          claim_token     TEXT,
          lease_until     TEXT,
          last_attempt_at TEXT,
          last_status     INTEGER,
          last_error      TEXT,
          sent_at         TEXT,
          UNIQUE (webhook_id, event_id)
        ) STRICT;
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
        CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, state);
      `);
    },
  },
  {
    version: 8,
    description: 'canary keys have names of their own',
    up(db) {
      db.exec(`
        -- A canary's name is unique among canaries only: whoever may not see canaries must not
        -- find a name taken by one.
        DROP INDEX IF EXISTS keys_name;
        CREATE UNIQUE INDEX keys_name
          ON keys(tenant_id, coalesce(owner_id, 0), coalesce(canary, 0), name COLLATE NOCASE);
      `);
    },
  },
];

export const LATEST_VERSION = migrations[migrations.length - 1]!.version;
/** "akm1": marks the file as an akm store, so a foreign SQLite file is not taken over. */
export const APPLICATION_ID = 0x616b6d31;
