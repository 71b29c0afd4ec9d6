import { onFileChange, restoreFiles } from './shims/fs.ts';

/**
 * What outlives the tab: the page's results folder (records and training checkpoints, by
 * path, so keyed by tier × claim × seed as the runner lays them out) and the settings of the
 * run last started, in IndexedDB. A tab closed mid-run can then be reopened and resumed from
 * the last checkpoint written, as `run --resume` does from the disk.
 *
 * Consistency: the runner writes a checkpoint's weights and then its metadata (which names the
 * weights' SHA-256) in one synchronous stretch, so the changes gathered until that stretch ends
 * (a microtask, not a timer: the training loop yields to the event loop only every 100 ms, and
 * a tab closed before then would lose them) go into one IndexedDB transaction, committed at
 * once: a tab closed at any moment leaves either the old checkpoint or the new one, never new
 * weights beside old metadata.
 */

const DB = 'label-leak';
const FILES = 'files';
const RUNS = 'runs';
const CURRENT = 'current';

/** The form of the run last started in this browser, and how it ended. */
export interface SavedRun {
  claim: string;
  tier: string;
  seeds: string;
  sets: string;
  backend: string;
  checkpointEvery: number;
  /** `running` when the tab went away during the run (or is still running it). */
  status: 'running' | 'stopped' | 'done' | 'failed';
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

let db: Promise<IDBDatabase> | undefined;
function open(): Promise<IDBDatabase> {
  db ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore(FILES);
      r.result.createObjectStore(RUNS);
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return db;
}

let pending = new Map<string, Uint8Array | null>();
/** Transactions sent and not yet known to be committed. */
const inFlight = new Set<Promise<void>>();
let failure: Error | undefined;
let database: IDBDatabase | undefined;

/**
 * Sends the gathered changes as one transaction, synchronously: IndexedDB runs read-write
 * transactions on one store in the order they were made, so none waits for the one before
 * (their completion events are tasks, which a busy training loop lets run only now and then).
 */
function flush(): void {
  const batch = pending;
  pending = new Map();
  if (batch.size === 0 || !database) return;
  try {
    const tx = database.transaction(FILES, 'readwrite');
    const store = tx.objectStore(FILES);
    for (const [path, data] of batch) {
      if (data === null) store.delete(path);
      else store.put(data, path);
    }
    const committed = done(tx).catch((e: unknown) => {
      // A full quota: the run goes on in memory, said on the page.
      failure ??= e instanceof Error ? e : new Error(String(e));
    });
    inFlight.add(committed);
    void committed.finally(() => inFlight.delete(committed));
    // Sent to the browser now, not when this page's event loop next runs.
    tx.commit();
  } catch (e) {
    failure ??= e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * Mirrors every change under `root` into IndexedDB from now on, after putting back what an
 * earlier tab left there.
 */
export async function persistTree(root: string): Promise<void> {
  const db = await open();
  const tx = db.transaction(FILES, 'readonly');
  const store = tx.objectStore(FILES);
  const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
  restoreFiles(keys.map((k, i) => [String(k), new Uint8Array(values[i] as ArrayBuffer | Uint8Array)]));
  database = db;
  const prefix = `${root}/`;
  onFileChange((path, data) => {
    if (!path.startsWith(prefix)) return;
    if (pending.size === 0) queueMicrotask(flush);
    pending.set(path, data);
  });
}

/** Resolves once every change made so far is committed (the run's end waits for it). */
export async function persisted(): Promise<void> {
  flush();
  await Promise.all([...inFlight]);
}

/** Why the results are not being kept across tabs, if they are not. */
export function persistFailure(): Error | undefined {
  return failure;
}

export async function savedRun(): Promise<SavedRun | undefined> {
  const tx = (await open()).transaction(RUNS, 'readonly');
  return (await request(tx.objectStore(RUNS).get(CURRENT))) as SavedRun | undefined;
}

export async function saveRun(run: SavedRun): Promise<void> {
  const tx = (await open()).transaction(RUNS, 'readwrite');
  tx.objectStore(RUNS).put(run, CURRENT);
  await done(tx);
}
