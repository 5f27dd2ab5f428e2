/**
 * A stage's lock in a bucket: one object, `<prefix>/<app>/<stage>/~lock.json`,
 * changed only by conditional PUTs, so that of any number of contenders
 * exactly one wins each change.
 *
 * - Taking a stage that was never locked: PUT with `If-None-Match: *`.
 * - Taking a free stage (`{ "id": null, token }`) or a stale lock: PUT with
 *   `If-Match: <the ETag read>`, token + 1. A lock is stale once its
 *   `heartbeatAt` is older than its lease by the contender's clock, or at
 *   once when its holder is a process of this host that is gone
 *   ({@link isLockStale}).
 * - Heartbeat: PUT with `If-Match: <the ETag of our last write>`.
 * - Release and force-unlock: PUT of the free form with `If-Match`, keeping
 *   the token.
 *
 * A 412 means someone else changed the object first: the contender reads it
 * again. A request the client retried after a lost answer may get a 412 for
 * its own first attempt; reading the object back and finding our own lock id
 * tells the two apart.
 *
 * Before the first lock through a connection, a probe checks that the
 * endpoint honours conditional PUTs at all (a second `If-None-Match: *` PUT
 * and an `If-Match` with a wrong ETag must both fail with 412); an endpoint
 * that ignores them would hand the stage to every contender, so the store
 * refuses to lock there.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { StateStoreError } from "../../core/errors.js";
import { Lease } from "../lease.js";
import { isLockStale, LockLostError, StageLockedError, type LockInfo, type LockRequest, type StageLock } from "../stage-lock.js";
import { lockText, parseLock, type LockDocument, type LockPlace } from "./lock-document.js";
import { fenceKey, type ObjectBucket } from "./object-bucket.js";
import type { ObjectLayout } from "./object-layout.js";
import { ObjectStageFence } from "./stage-fence.js";

/** Shortest and longest pause before a contender looks again at a lock someone else holds (each look is an API request). */
const POLL_MS = { min: 250, max: 750 };
/** How often a release or heartbeat re-reads the lock after a 412 before giving up. */
const RETRIES_AFTER_412 = 5;

/** The lock object of one stage, through one connection. */
export class ObjectStageLock {
  readonly key: string;
  readonly location: string;
  readonly #place: LockPlace;
  readonly #stage: string;

  constructor(
    readonly objects: ObjectBucket,
    readonly layout: ObjectLayout,
    /** `[app, stage]` */
    readonly chain: readonly [string, string],
  ) {
    this.key = layout.lockKey(chain);
    this.location = objects.location(this.key);
    this.#place = { location: this.location, deleteCommand: objects.deleteCommand(this.key) };
    this.#stage = chain[1];
  }

  /** `app/stage` */
  get stagePath(): string {
    return this.chain.join("/");
  }

  /** The lock object as it is now: its text parsed, and its ETag. */
  async read(): Promise<(LockDocument & { etag: string }) | undefined> {
    const current = await this.objects.get(this.key, `read the lock of stage "${this.#stage}"`, { urgent: true });
    return current === undefined ? undefined : { ...parseLock(current.text, this.#place, this.stagePath), etag: current.etag };
  }

  /**
   * Takes the lock, waiting up to `request.timeoutMs` for a live holder;
   * from then on every write of this connection to the stage is fenced.
   *
   * @throws StageLockedError naming the holder and the lock object when the stage stays locked.
   * @throws StateStoreError when the endpoint ignores conditional PUTs, or the lock object is damaged.
   */
  async acquire(request: LockRequest): Promise<StageLock> {
    const identity = await this.objects.identity();
    await this.#probe(identity);
    const started = Date.now();
    const id = randomUUID();
    for (;;) {
      const attempt = await this.#tryTake(id, request);
      if ("taken" in attempt) {
        const fence = new ObjectStageFence(this.objects, this.key, this.stagePath, id, new Lease(request.leaseMs, attempt.startedAt));
        const key = fenceKey(identity, this.key);
        this.objects.session.fences.set(key, fence);
        return this.#held(attempt.taken, attempt.etag, attempt.tookOverFrom, fence, key);
      }
      const waited = Date.now() - started;
      if (waited >= request.timeoutMs) throw new StageLockedError(this.stagePath, attempt.heldBy, this.location, waited);
      // Jittered, so that contenders that started together do not keep polling in step.
      const pause = POLL_MS.min + Math.random() * (POLL_MS.max - POLL_MS.min);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, request.timeoutMs - waited)));
    }
  }

  /** Frees the stage if its lock is `lockId`; resolves whether it did. */
  async clear(lockId: string): Promise<boolean> {
    for (let attempt = 0; attempt < RETRIES_AFTER_412; attempt++) {
      const current = await this.read();
      if (current?.info?.id !== lockId) return false;
      const put = await this.objects.put(this.key, lockText({ token: current.token }), {
        doing: `release the lock of stage "${this.#stage}"`,
        condition: { ifMatch: current.etag },
        urgent: true,
      });
      if (put !== "precondition-failed") return true;
    }
    throw this.#busy("release");
  }

  /** One look: takes the lock if the stage is free or its lock stale, else says who holds it. */
  async #tryTake(id: string, request: LockRequest): Promise<{ taken: LockInfo; etag: string; startedAt: number; tookOverFrom?: LockInfo } | { heldBy: LockInfo }> {
    let lastPutStartedAt = performance.now();
    for (;;) {
      const current = await this.read();
      if (current?.info?.id === id) {
        // An earlier attempt of ours landed though its answer was lost.
        return { taken: current.info, etag: current.etag, startedAt: lastPutStartedAt };
      }
      if (current?.info !== undefined && !isLockStale(current.info, Date.now())) return { heldBy: current.info };
      lastPutStartedAt = performance.now();
      const now = new Date();
      const info: LockInfo = { id, token: (current?.token ?? 0) + 1, holder: request.holder, acquiredAt: now, heartbeatAt: now, leaseMs: request.leaseMs };
      const put = await this.objects.put(this.key, lockText({ token: info.token, info }), {
        doing: `take the lock of stage "${this.#stage}"`,
        condition: current === undefined ? { ifNoneMatch: "*" } : { ifMatch: current.etag },
        urgent: true,
      });
      if (put === "precondition-failed") continue; // another contender changed it first: look again
      if (put.etag === undefined) throw this.#noEtag();
      return { taken: info, etag: put.etag, startedAt: lastPutStartedAt, tookOverFrom: current?.info };
    }
  }

  #held(info: LockInfo, firstEtag: string, tookOverFrom: LockInfo | undefined, fence: ObjectStageFence, key: string): StageLock {
    let etag = firstEtag;
    let released = false;
    const session = this.objects.session;
    return {
      info,
      tookOverFrom,
      heartbeat: async () => {
        if (released) throw new LockLostError(this.stagePath, info.id);
        const refusal = fence.refusal();
        if (refusal !== undefined) throw refusal;
        for (let attempt = 0; attempt < RETRIES_AFTER_412; attempt++) {
          const started = performance.now();
          const beat = { ...info, heartbeatAt: new Date() };
          const put = await this.objects.put(this.key, lockText({ token: info.token, info: beat }), {
            doing: `renew the lock of stage "${this.#stage}"`,
            condition: { ifMatch: etag },
            urgent: true,
          });
          if (put !== "precondition-failed") {
            if (put.etag === undefined) throw this.#noEtag();
            etag = put.etag;
            fence.lease.renewed(started);
            return;
          }
          const current = await this.read();
          if (current?.info?.id !== info.id) throw fence.lose(new LockLostError(this.stagePath, info.id, current?.info));
          etag = current.etag; // our own earlier heartbeat landed though its answer was lost
        }
        throw this.#busy("renew");
      },
      release: async () => {
        if (released) return;
        released = true;
        // Later writes are no longer fenced; those already started land, still fenced, before the stage is freed.
        if (session.fences.get(key) === fence) session.fences.delete(key);
        await fence.settled();
        await this.clear(info.id);
      },
    };
  }

  /** Checks once per connection and bucket that the endpoint refuses a conditional PUT that must fail. */
  async #probe(identity: string): Promise<void> {
    const key = identity;
    const probed = this.objects.session.probed;
    let probe = probed.get(key);
    if (probe === undefined) {
      probe = this.#runProbe();
      probed.set(key, probe);
      probe.catch(() => probed.delete(key)); // look again next time
    }
    await probe;
  }

  async #runProbe(): Promise<void> {
    const key = this.layout.probeKey(this.chain, randomUUID());
    const doing = `check that the endpoint honours conditional writes (stage "${this.#stage}")`;
    const text = JSON.stringify({ probe: "alchemy checks that conditional PUTs fail with 412; safe to delete" });
    try {
      const first = await this.objects.put(key, text, { doing, condition: { ifNoneMatch: "*" } });
      const again = await this.objects.put(key, text, { doing, condition: { ifNoneMatch: "*" } });
      const wrong = await this.objects.put(key, text, { doing, condition: { ifMatch: "00000000000000000000000000000000" } });
      const ignored = [first === "precondition-failed" ? "a first If-None-Match: * PUT of a new key failed" : undefined,
        again !== "precondition-failed" ? "a second If-None-Match: * PUT of the same key succeeded" : undefined,
        wrong !== "precondition-failed" ? "an If-Match PUT with a wrong ETag succeeded" : undefined].filter((x) => x !== undefined);
      if (ignored.length > 0) {
        throw new StateStoreError(
          `Refusing to lock stage "${this.#stage}" in ${this.objects.location(this.layout.scopePrefix(this.chain))}: ` +
            `the endpoint ${this.objects.endpoint} does not honour conditional PUTs (${ignored.join("; ")}), ` +
            "so two runs could both take the lock. Use an endpoint that answers 412 to a failed If-None-Match/If-Match (Cloudflare's API, AWS S3 and R2's S3 API do), " +
            "or run without locking (stateLocking: false) only when no two runs can deploy this stage at once.",
          this.objects.location(key),
        );
      }
    } finally {
      await this.objects.delete(key, { doing: `remove the probe object of stage "${this.#stage}"` }).catch(() => undefined);
    }
  }

  #busy(what: string): StateStoreError {
    return new StateStoreError(
      `Could not ${what} the lock of stage "${this.#stage}" at ${this.location}: it kept changing under ${RETRIES_AFTER_412} conditional writes in a row. Run again.`,
      this.location,
    );
  }

  #noEtag(): StateStoreError {
    return new StateStoreError(
      `The endpoint ${this.objects.endpoint} answered a PUT of ${this.location} without the new object's ETag, which the stage lock needs for its next conditional write.`,
      this.location,
    );
  }
}
