/**
 * Uses of a key's secrets, tallied per source, pure. The server notes every use in a SourceBook
 * (in memory, no I/O on the hot path) and writes what it holds once a second. Memory stays
 * bounded whatever callers send: at most SOURCES_KEPT sources per secret (the ones seen most
 * recently win), and at most `maxSlots` secrets per interval (the rest only count as dropped).
 */
import { sourceKey, type UseSource } from './source.js';

/** Distinct sources kept per secret, in memory and in the store. */
export const SOURCES_KEPT = 20;

/**
 * What a use is about: a use of a secret (`use`), an attempt refused because the key is in a
 * brownout (`refused`), or an attempt on a canary key (`canary`). `generation` counts the key's
 * secrets (1 at creation, +1 per rotation): a use stays attached to the secret it was made with,
 * whatever rotations happen before it is written.
 */
export type UseKind = 'use' | 'refused' | 'canary';

export interface Use {
  accessKeyId: string;
  generation: number;
  kind: UseKind;
  /** ISO-8601 */
  at: string;
  source: UseSource;
}

export interface Tally {
  source: UseSource;
  firstSeen: string;
  lastSeen: string;
  count: number;
}

export interface Slot {
  accessKeyId: string;
  generation: number;
  kind: UseKind;
  tallies: Tally[];
}

/** Fold one tally into another for the same source. ISO-8601 strings of one format sort as instants. */
export function mergeTally(into: Tally, more: Pick<Tally, 'firstSeen' | 'lastSeen' | 'count'>): Tally {
  return {
    source: into.source,
    firstSeen: more.firstSeen < into.firstSeen ? more.firstSeen : into.firstSeen,
    lastSeen: more.lastSeen > into.lastSeen ? more.lastSeen : into.lastSeen,
    count: into.count + more.count,
  };
}

/** The `limit` most recently seen, most recent first (ties: the more used first). */
export function newestTallies(tallies: Tally[], limit = SOURCES_KEPT): Tally[] {
  return [...tallies]
    .sort((a, b) => (a.lastSeen === b.lastSeen ? b.count - a.count : a.lastSeen < b.lastSeen ? 1 : -1))
    .slice(0, limit);
}

function slotKey(use: Pick<Use, 'accessKeyId' | 'generation' | 'kind'>): string {
  return `${use.accessKeyId}\0${use.generation}\0${use.kind}`;
}

interface OpenSlot {
  slot: Omit<Slot, 'tallies'>;
  tallies: Map<string, Tally>;
}

export class SourceBook {
  private slots = new Map<string, OpenSlot>();
  private droppedCount = 0;

  constructor(private readonly maxSlots = 10_000) {}

  get size(): number {
    return this.slots.size;
  }

  /** Uses left out since the last take() because too many secrets were used in one interval. */
  get dropped(): number {
    return this.droppedCount;
  }

  note(use: Use): void {
    this.add(use, { source: use.source, firstSeen: use.at, lastSeen: use.at, count: 1 });
  }

  private add(slotOf: Omit<Slot, 'tallies'>, tally: Tally): void {
    const key = slotKey(slotOf);
    let open = this.slots.get(key);
    if (!open) {
      if (this.slots.size >= this.maxSlots) {
        this.droppedCount += tally.count;
        return;
      }
      const slot = { accessKeyId: slotOf.accessKeyId, generation: slotOf.generation, kind: slotOf.kind };
      this.slots.set(key, (open = { slot, tallies: new Map() }));
    }
    const id = sourceKey(tally.source);
    const known = open.tallies.get(id);
    open.tallies.set(id, known ? mergeTally(known, tally) : tally);
    if (open.tallies.size > SOURCES_KEPT) {
      // Drop the source seen least recently: it would be the first to go from the store too.
      let oldest: [string, Tally] | undefined;
      for (const entry of open.tallies) if (!oldest || entry[1].lastSeen < oldest[1].lastSeen) oldest = entry;
      open.tallies.delete(oldest![0]);
    }
  }

  /** Everything noted so far; the book starts empty again. */
  take(): Slot[] {
    const slots = [...this.slots.values()].map((open) => ({ ...open.slot, tallies: [...open.tallies.values()] }));
    this.slots = new Map();
    this.droppedCount = 0;
    return slots;
  }

  /** Slots a failed write could not store go back in, merged with what was noted meanwhile. */
  putBack(slots: Slot[]): void {
    for (const slot of slots) for (const tally of slot.tallies) this.add(slot, tally);
  }
}
