/**
 * A stage's lock in DynamoDB: one item of the stage's partition, sk `~lock`,
 * changed only by conditional writes, so that of any number of contenders
 * exactly one wins each change.
 *
 * The item keeps `token` (the fencing token, +1 per acquisition, kept on
 * release) and `rev` (+1 per change: what a contender's write is
 * conditioned on); while held also `lockId`, `holder` (JSON), `acquiredAt`,
 * `heartbeatAt` (the holder's clock, epoch ms) and `leaseMs`.
 *
 * - Taking a stage never locked: PutItem with `attribute_not_exists(pk)`;
 *   its token is one above every `fence` in the stage's partition, so that a
 *   lock item that was deleted never hands out a token that records have
 *   already seen.
 * - Taking a free stage or a stale lock: PutItem with `rev = <rev read>`. A
 *   lock is stale once its `heartbeatAt` is older than its lease by the
 *   CONTENDER's clock, or at once when its holder is a process of this host
 *   that is gone ({@link isLockStale}). DynamoDB's TTL is never used: it
 *   deletes expired items days late.
 * - Heartbeat: UpdateItem of `heartbeatAt` and `rev` with `lockId = <ours>`
 *   (also once the lease ran out by the holder's clock: if it lands, no one
 *   took the lock over, and the rev it bumps fails any takeover under way).
 * - Release and force-unlock: UpdateItem removing the holder's attributes,
 *   with `lockId = <that id>`, keeping the token.
 *
 * A failed condition means someone else changed the item first: the
 * contender reads it again. A write the SDK retried after a lost answer may
 * fail its condition because its first attempt landed; finding our own
 * lock id on reading tells the two apart.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { StateStoreError } from "../../core/errors.js";
import { Lease } from "../lease.js";
import { isLockStale, LockLostError, StageLockedError, type LockHolder, type LockInfo, type LockRequest, type StageLock } from "../stage-lock.js";
import { stageKey, type DynamoDBSdk } from "./dynamodb-connection.js";
import { isConditionFailed } from "./dynamodb-errors.js";
import { LOCK_SK, type DynamoDBKeys } from "./dynamodb-layout.js";
import { DynamoDBStageFence } from "./dynamodb-stage-fence.js";
import type { Command, DynamoDBTable, Item, Output } from "./dynamodb-table.js";

/** Shortest and longest pause before a contender looks again at a lock someone else holds. */
const POLL_MS = { min: 250, max: 750 };
const HOLDER_ATTRIBUTES = ["lockId", "holder", "acquiredAt", "heartbeatAt", "leaseMs"];
/** The lock's requests never wait behind the records' (a heartbeat stuck behind a deploy's writes would lose the lock). */
const URGENT = { urgent: true };

/** The lock item as read: its token and revision, and the lock when held. */
interface LockItem {
  token: number;
  rev: number;
  info?: LockInfo;
}

/** The lock item of one stage of a table. */
export class DynamoDBStageLock {
  readonly location: string;
  readonly #pk: string;
  readonly #stagePath: string;

  constructor(
    readonly table: DynamoDBTable,
    /** The keys of the stage scope. */
    readonly keys: DynamoDBKeys,
  ) {
    this.#pk = keys.pk!;
    this.#stagePath = keys.chain.join("/");
    this.location = keys.location(LOCK_SK);
  }

  /** The lock item as it is now (strongly consistent), or undefined when the stage was never locked. */
  async read(): Promise<LockItem | undefined> {
    const answer = await this.#send(`read the lock of stage "${this.keys.chain[1]}"`, (sdk) =>
      new sdk.GetItemCommand({ TableName: this.table.name, Key: this.#key(), ConsistentRead: true }),
    );
    return answer.Item === undefined ? undefined : this.#parse(answer.Item);
  }

  /**
   * Takes the lock, waiting up to `request.timeoutMs` for a live holder; from
   * then on every write of this connection to the stage is fenced.
   *
   * @throws StageLockedError naming the holder and the lock item when the stage stays locked.
   * @throws StateStoreError when the lock item is damaged.
   */
  async acquire(request: LockRequest): Promise<StageLock> {
    const started = Date.now();
    const id = randomUUID();
    for (;;) {
      const attempt = await this.#tryTake(id, request);
      if ("taken" in attempt) {
        const fence = new DynamoDBStageFence(this.#stagePath, id, attempt.taken.token, new Lease(request.leaseMs, attempt.startedAt), {
          read: async () => (await this.read())?.info,
          deleteCommand: this.keys.deleteCommand(LOCK_SK, this.table.place.cli),
        });
        this.table.connection.fences.set(stageKey(this.table.name, this.#pk), fence);
        return this.#held(attempt.taken, attempt.tookOverFrom, fence);
      }
      const waited = Date.now() - started;
      if (waited >= request.timeoutMs) throw new StageLockedError(this.#stagePath, attempt.heldBy, this.location, waited);
      // Jittered, so that contenders that started together do not keep polling in step.
      const pause = POLL_MS.min + Math.random() * (POLL_MS.max - POLL_MS.min);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, request.timeoutMs - waited)));
    }
  }

  /** Frees the stage if its lock is `lockId`, keeping the token; resolves whether it did. */
  async clear(lockId: string): Promise<boolean> {
    try {
      await this.#send(`release the lock of stage "${this.keys.chain[1]}"`, (sdk) =>
        new sdk.UpdateItemCommand({
          TableName: this.table.name,
          Key: this.#key(),
          UpdateExpression: `SET #rev = #rev + :one REMOVE ${HOLDER_ATTRIBUTES.map((_, i) => `#h${i}`).join(", ")}`,
          ConditionExpression: "#h0 = :id",
          ExpressionAttributeNames: { "#rev": "rev", ...Object.fromEntries(HOLDER_ATTRIBUTES.map((name, i) => [`#h${i}`, name])) },
          ExpressionAttributeValues: { ":one": { N: "1" }, ":id": { S: lockId } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** One look: takes the lock if the stage is free or its lock stale, else says who holds it. */
  async #tryTake(id: string, request: LockRequest): Promise<{ taken: LockInfo; startedAt: number; tookOverFrom?: LockInfo } | { heldBy: LockInfo }> {
    let startedAt = performance.now();
    for (;;) {
      const current = await this.read();
      if (current?.info?.id === id) return { taken: current.info, startedAt }; // an earlier attempt of ours landed though its answer was lost
      if (current?.info !== undefined && !isLockStale(current.info, Date.now())) return { heldBy: current.info };
      const token = (current?.token ?? (await this.#highestFence())) + 1;
      startedAt = performance.now();
      const now = new Date();
      const info: LockInfo = { id, token, holder: request.holder, acquiredAt: now, heartbeatAt: now, leaseMs: request.leaseMs };
      try {
        await this.#send(`take the lock of stage "${this.keys.chain[1]}"`, (sdk) =>
          new sdk.PutItemCommand({
            TableName: this.table.name,
            Item: this.#item(info, (current?.rev ?? 0) + 1),
            ConditionExpression: current === undefined ? "attribute_not_exists(pk)" : "#rev = :rev",
            ExpressionAttributeNames: current === undefined ? undefined : { "#rev": "rev" },
            ExpressionAttributeValues: current === undefined ? undefined : { ":rev": { N: String(current.rev) } },
          }),
        );
        return { taken: info, startedAt, tookOverFrom: current?.info };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        // Another contender changed the item first: look again.
      }
    }
  }

  #held(info: LockInfo, tookOverFrom: LockInfo | undefined, fence: DynamoDBStageFence): StageLock {
    let released = false;
    const fences = this.table.connection.fences;
    const key = stageKey(this.table.name, this.#pk);
    return {
      info,
      tookOverFrom,
      heartbeat: async () => {
        if (released) throw new LockLostError(this.#stagePath, info.id);
        // A lease run out by this process's clock is no reason to give up here: the renewal is conditional on the
        // lock item still holding our id, so it lands only if no one took the lock over. A write refused meanwhile stays refused.
        if (fence.lost !== undefined) throw fence.lost;
        const started = performance.now();
        try {
          await this.#send(`renew the lock of stage "${this.keys.chain[1]}"`, (sdk) =>
            new sdk.UpdateItemCommand({
              TableName: this.table.name,
              Key: this.#key(),
              UpdateExpression: "SET #beat = :now, #rev = #rev + :one",
              ConditionExpression: "#lockId = :id",
              ExpressionAttributeNames: { "#beat": "heartbeatAt", "#rev": "rev", "#lockId": "lockId" },
              ExpressionAttributeValues: { ":now": { N: String(Date.now()) }, ":one": { N: "1" }, ":id": { S: info.id } },
            }),
          );
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
          throw fence.lose(new LockLostError(this.#stagePath, info.id, (await this.read())?.info));
        }
        fence.lease.renewed(started);
      },
      release: async () => {
        if (released) return;
        released = true;
        // Later writes are no longer fenced; those already started land, still fenced, before the stage is freed.
        if (fences.get(key) === fence) fences.delete(key);
        await fence.settled();
        await this.clear(info.id);
      },
    };
  }

  /** The highest fencing token any item of the stage carries (0 when none). */
  async #highestFence(): Promise<number> {
    let highest = 0;
    const pages = this.table.query(`read the fencing tokens of stage "${this.keys.chain[1]}"`, this.keys.location(), {
      KeyConditionExpression: "pk = :pk",
      ProjectionExpression: "#fence",
      ExpressionAttributeNames: { "#fence": "fence" },
      ExpressionAttributeValues: { ":pk": { S: this.#pk } },
    });
    for await (const page of pages) for (const item of page.Items ?? []) highest = Math.max(highest, Number(item.fence?.N ?? 0) || 0);
    return highest;
  }

  /** Sends a request about the lock item, ahead of the connection's queue of record requests. */
  #send<C extends Command>(doing: string, make: (sdk: DynamoDBSdk) => C): Promise<Output<C>> {
    return this.table.send(doing, this.location, make, URGENT);
  }

  #key(): Item {
    return { pk: { S: this.#pk }, sk: { S: LOCK_SK } };
  }

  #item(info: LockInfo, rev: number): Item {
    return {
      ...this.#key(),
      token: { N: String(info.token) },
      rev: { N: String(rev) },
      lockId: { S: info.id },
      holder: { S: JSON.stringify(info.holder) },
      acquiredAt: { N: String(info.acquiredAt.getTime()) },
      heartbeatAt: { N: String(info.heartbeatAt.getTime()) },
      leaseMs: { N: String(info.leaseMs) },
    };
  }

  #parse(item: Item): LockItem {
    const number = (name: string) => (item[name]?.N === undefined ? NaN : Number(item[name]!.N));
    const token = number("token");
    const rev = number("rev");
    if (!Number.isSafeInteger(token) || !Number.isSafeInteger(rev)) throw this.#damaged(`has no numeric "token" and "rev"`);
    if (item.lockId === undefined) return { token, rev };
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(item.holder?.S ?? "null") as LockHolder;
    } catch {
      holder = undefined;
    }
    const times = [number("acquiredAt"), number("heartbeatAt"), number("leaseMs")];
    const fields = holder && [holder.user, holder.host, holder.command].every((x) => typeof x === "string") && typeof holder.pid === "number";
    if (typeof item.lockId.S !== "string" || !fields || !times.every(Number.isFinite)) {
      throw this.#damaged(`holds lock ${JSON.stringify(item.lockId.S ?? "?")} without a readable holder, acquiredAt, heartbeatAt and leaseMs`);
    }
    const [acquiredAt, heartbeatAt, leaseMs] = times as [number, number, number];
    return { token, rev, info: { id: item.lockId.S, token, holder: holder!, acquiredAt: new Date(acquiredAt), heartbeatAt: new Date(heartbeatAt), leaseMs } };
  }

  #damaged(what: string): StateStoreError {
    return new StateStoreError(
      `The lock item of stage "${this.keys.chain[1]}" at ${this.location} ${what}. Nothing was changed. ` +
        `If no run is deploying the stage, delete it (${this.keys.deleteCommand(LOCK_SK, this.table.place.cli)}); ` +
        "the next run then takes a fresh lock, with a fencing token above every record's.",
      this.location,
    );
  }
}
