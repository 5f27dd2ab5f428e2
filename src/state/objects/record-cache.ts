/**
 * A local cache of the records a store in a bucket has read or written, so
 * that reading a scope whose records did not change costs its listing
 * only, not one GET per record: a no-op redeploy of 10,000 resources from
 * the same machine makes no GET for them.
 *
 * Nothing in the cache is trusted on its own. A cached text is used only
 * when its MD5 equals the ETag the bucket's listing gave for the object a
 * moment ago; S3 and R2 give a single-part upload (every write of these
 * stores) its body's MD5 as ETag. A stale, damaged or planted entry fails
 * that check and the object is read from the bucket; an object whose ETag is
 * not an MD5 (a multipart upload, SSE-KMS) is always read from the bucket.
 *
 * Where: `$ALCHEMY_CACHE_DIR`, else `$XDG_CACHE_HOME/alchemy`, else
 * `~/.cache/alchemy`, under `objects/<hash of the bucket>/<hash of the key>`,
 * directories `0700` and files `0600`; a directory another user owns or may
 * write is not used. `ALCHEMY_CACHE=off` turns the cache off. Failing to
 * read or write the cache is never an error: the store reads the bucket.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 40);
const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

/**
 * The cache of one bucket.
 *
 * @example
 * const cache = RecordCache.open(await bucket.identity());
 * const text = (await cache?.read(key, etagFromListing)) ?? (await bucket.get(key, doing))?.text;
 */
export class RecordCache {
  /** Writes and removals in flight, by key: a read of the key waits for them. */
  readonly #pending = new Map<string, Promise<void>>();

  private constructor(readonly dir: string) {}

  /** The cache of the bucket `identity`, or `undefined` when it is off or its directory cannot be trusted. */
  static open(identity: string, env: NodeJS.ProcessEnv = process.env): RecordCache | undefined {
    if ((env.ALCHEMY_CACHE ?? "").toLowerCase() === "off") return undefined;
    const root = env.ALCHEMY_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "alchemy");
    const dir = path.join(root, "objects", hash(identity));
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const at of [dir, path.dirname(dir)]) {
        const stat = fs.lstatSync(at);
        const mine = typeof process.getuid !== "function" || stat.uid === process.getuid();
        if (!stat.isDirectory() || !mine || (stat.mode & 0o022) !== 0) return undefined;
      }
      return new RecordCache(dir);
    } catch {
      return undefined;
    }
  }

  /** The cached text of `key` if its MD5 is `etag`; otherwise `undefined`. */
  async read(key: string, etag: string | undefined): Promise<string | undefined> {
    if (etag === undefined || !/^[0-9a-f]{32}$/.test(etag)) return undefined;
    await this.#pending.get(key);
    try {
      const file = await fs.promises.open(this.#file(key), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      let text: string;
      try {
        text = await file.readFile("utf8");
      } finally {
        await file.close();
      }
      return md5(text) === etag ? text : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps `text` for `key` when `etag` is its MD5 (what a later listing will
   * show); else forgets `key`. In the background (the caller does not wait),
   * in order per key; a read of the key waits for it. Whatever the cache
   * holds, an entry is checked against the listing before it is used.
   */
  write(key: string, text: string, etag: string | undefined): void {
    if (etag === undefined || md5(text) !== etag) return this.forget(key);
    const file = this.#file(key);
    const temporary = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    this.#queue(key, () =>
      fs.promises
        .writeFile(temporary, text, { mode: 0o600, flag: "wx" })
        .then(() => fs.promises.rename(temporary, file))
        .catch(() => fs.promises.rm(temporary, { force: true })), // a cache that cannot be written costs a GET next time
    );
  }

  /** Forgets `key` (before a write, after a delete), in the background. */
  forget(key: string): void {
    this.#queue(key, () => fs.promises.rm(this.#file(key), { force: true }));
  }

  /** Runs `change` after the changes of `key` already queued, in the background, never failing. */
  #queue(key: string, change: () => Promise<unknown>): void {
    const after = (this.#pending.get(key) ?? Promise.resolve()).then(change).then(
      () => undefined,
      () => undefined,
    );
    this.#pending.set(key, after);
    void after.then(() => {
      if (this.#pending.get(key) === after) this.#pending.delete(key);
    });
  }

  #file(key: string): string {
    return path.join(this.dir, hash(key));
  }
}
