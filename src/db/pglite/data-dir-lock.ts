import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

/** The lock's file name inside the PGlite directory (PostgreSQL keeps its postmaster.pid there too). */
const LOCK_FILE = "dualstore.lock";

/**
 * What the holder of a PGlite directory records: who it is, and whether and where it shares the
 * database. "starting": opening it; "serving": other processes may connect on `socketDir`;
 * "exclusive": it shares nothing (database.share: false, or no Unix sockets on this platform).
 */
export interface LockRecord {
  readonly pid: number;
  readonly hostname: string;
  /** Tells this holding apart from a later one by a process that reused the pid. */
  readonly token: string;
  readonly state: "starting" | "serving" | "exclusive";
  readonly socketDir: string | undefined;
}

export type LockAttempt = { readonly acquired: true; readonly lock: DataDirLock } | { readonly acquired: false; readonly holder: LockRecord };

/**
 * A lock on a PGlite directory, held by one live process: PGlite is a one-process database, and
 * two processes writing the same files lose data. The lock is a file created atomically (link
 * of a fully written file, so nobody reads it half-written); a lock whose process is gone (a
 * crash, SIGKILL) is taken over.
 */
export class DataDirLock {
  private constructor(
    private readonly path: string,
    private record: LockRecord,
  ) {}

  /** Takes the lock, or reports the live process that holds it. */
  static async acquire(dataDir: string): Promise<LockAttempt> {
    await mkdir(dataDir, { recursive: true });
    const path = join(dataDir, LOCK_FILE);
    const record: LockRecord = { pid: process.pid, hostname: hostname(), token: randomBytes(12).toString("hex"), state: "starting", socketDir: undefined };
    for (let attempt = 0; attempt < 10; attempt++) {
      if (await createExclusively(path, record)) return { acquired: true, lock: new DataDirLock(path, record) };
      const holder = await readRecord(path);
      if (holder === undefined) continue; // released meanwhile
      if (isAlive(holder)) return { acquired: false, holder };
      await removeStale(path, holder);
    }
    throw new Error(`could not take the lock ${path}: other processes keep taking it over`);
  }

  /**
   * Removes the lock of a holder that is gone although its pid is alive (a reused pid): only
   * if the lock still holds that same record.
   */
  static breakStale(dataDir: string, holder: LockRecord): Promise<void> {
    return removeStale(join(dataDir, LOCK_FILE), holder);
  }

  /** Records whether (and where) this process shares the database; replaced atomically. */
  async update(change: Pick<LockRecord, "state" | "socketDir">): Promise<void> {
    this.record = { ...this.record, ...change };
    const temporary = `${this.path}.${this.record.token}`;
    await writeFile(temporary, JSON.stringify(this.record));
    await rename(temporary, this.path);
  }

  /** Removes the lock, unless another process has taken it over meanwhile. */
  async release(): Promise<void> {
    const current = await readRecord(this.path);
    if (current?.token === this.record.token) await rm(this.path, { force: true });
  }
}

/** Whether the process a record names still runs. A holder on another host cannot be checked: it counts as alive. */
export function isAlive(record: LockRecord): boolean {
  if (!Number.isInteger(record.pid) || record.pid <= 0) return false;
  if (record.hostname !== hostname()) return true;
  try {
    process.kill(record.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function createExclusively(path: string, record: LockRecord): Promise<boolean> {
  const temporary = `${path}.${record.token}`;
  await writeFile(temporary, JSON.stringify(record));
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

async function readRecord(path: string): Promise<LockRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as LockRecord;
  } catch {
    // Not ours, or damaged: nobody can be said to hold it.
    return { pid: 0, hostname: hostname(), token: "", state: "exclusive", socketDir: undefined };
  }
}

/**
 * Removes a dead holder's lock. Two processes may find the same stale lock: each moves it aside
 * under a name of its own and checks that what it moved is the stale record it saw, putting
 * back a fresh lock it moved by mistake.
 */
async function removeStale(path: string, stale: LockRecord): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const moved = await readRecord(aside);
  if (moved !== undefined && moved.token !== stale.token) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}
