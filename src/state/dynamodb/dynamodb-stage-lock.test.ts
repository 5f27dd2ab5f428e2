import os from "node:os";
import { DeleteItemCommand, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { LockLostError, StageLockedError, type LockHolder } from "../stage-lock.js";
import { DynamoDBStateStore } from "./dynamodb-state-store.js";
import { startProxy, type DynamoDBProxy } from "./dynamodb-proxy.test-fixture.js";
import { freshTable, record, separateClient, testOptions, useDynalite } from "./dynamodb.test-fixture.js";

const dynalite = useDynalite();
const STAGE = ["app", "dev"];
const holder = (command: string): LockHolder => ({ user: "tester", host: os.hostname(), pid: process.pid, command });
const request = (command: string, leaseMs = 30_000) => ({ holder: holder(command), leaseMs, timeoutMs: 0 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const proxies: DynamoDBProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

/** A fresh table; `processes()` makes stores on it as one process sees them (a client of its own, hence fences of its own). */
async function setup() {
  const server = await dynalite();
  const table = freshTable();
  const raw = separateClient(server);
  const processes = () => {
    const client = separateClient(server);
    return (chain: readonly string[]) => new DynamoDBStateStore({ chain }, testOptions(server, table, { client }));
  };
  const key = (sk: string) => ({ pk: { S: "app/dev" }, sk: { S: sk } });
  const item = async (sk: string) => (await raw.send(new GetItemCommand({ TableName: table, Key: key(sk) }))).Item;
  const setFence = (sk: string, fence: number) =>
    raw.send(new UpdateItemCommand({ TableName: table, Key: key(sk), UpdateExpression: "SET fence = :f", ExpressionAttributeValues: { ":f": { N: String(fence) } } }));
  const deleteItem = (sk: string) => raw.send(new DeleteItemCommand({ TableName: table, Key: key(sk) }));
  return { server, table, processes, item, setFence, deleteItem };
}

describe("DynamoDBStateStore stage locks", () => {
  it("keeps the lock in the item ~lock: the fencing token grows with every acquisition and stays on release, and each write carries its holder's token", async () => {
    const { processes, item } = await setup();
    const store = processes()(STAGE);
    const first = await store.lock(request("one"));
    expect(first.info.token).toBe(1);
    expect(await item("~lock")).toMatchObject({ token: { N: "1" }, lockId: { S: first.info.id }, leaseMs: { N: "30000" } });
    expect(JSON.parse((await item("~lock"))!.holder!.S!)).toEqual(holder("one"));
    await store.set("api", record(STAGE, "api"));
    expect((await item("/:api"))!.fence).toEqual({ N: "1" });
    await first.release();
    const free = await item("~lock");
    expect(free).toMatchObject({ token: { N: "1" } });
    expect(free!.lockId).toBeUndefined();
    const second = await store.lock(request("two"));
    expect(second.info.token).toBe(2);
    await store.setStageMeta({ v: 2 });
    expect((await item("~meta"))!.fence).toEqual({ N: "2" });
    await second.release();
  });

  it("refuses, by the condition on its item, a write of an earlier holder to a record a later holder wrote, though its lease still runs: LockLostError naming the new holder, sticky", async () => {
    const { processes, item } = await setup();
    const [mine, theirs] = [processes(), processes()];
    const old = await mine(STAGE).lock(request("mine"));
    await mine(STAGE).set("api", record(STAGE, "api", { seq: 1 }));
    expect(await theirs(STAGE).forceUnlock(old.info.id)).toBe(true); // a takeover the lease cannot explain
    const taken = await theirs(STAGE).lock(request("thief"));
    await theirs(STAGE).set("api", record(STAGE, "api", { seq: 2 }));
    const error = await mine(STAGE).set("api", record(STAGE, "api", { seq: 99 })).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).current).toMatchObject({ id: taken.info.id, token: 2, holder: holder("thief") });
    expect((error as Error).message).toContain(`Lost the lock ${old.info.id} on stage "dev" (app/dev): tester@${os.hostname()} pid ${process.pid} (thief) holds it now`);
    expect(JSON.parse((await item("/:api"))!.state!.S!).seq).toBe(2);
    // Sticky: later writes, in any scope of the stage, and the heartbeat are refused with the same error.
    await expect(mine([...STAGE, "backend"]).set("db", record([...STAGE, "backend"], "db"))).rejects.toBe(error);
    await expect(old.heartbeat()).rejects.toBe(error);
    expect(await item("/backend/:db")).toBeUndefined();
    await old.release();
    expect((await theirs(STAGE).lockInfo())?.id).toBe(taken.info.id);
    await taken.release();
  });

  it("does not refuse by condition an earlier holder's write of a record the later holder has not written: the lease and the heartbeat close that window", async () => {
    const { processes, item } = await setup();
    const [mine, theirs] = [processes(), processes()];
    const old = await mine(STAGE).lock(request("mine"));
    await theirs(STAGE).forceUnlock(old.info.id);
    const taken = await theirs(STAGE).lock(request("thief"));
    await mine(STAGE).set("untouched", record(STAGE, "untouched")); // lands: the documented window
    expect((await item("/:untouched"))!.fence).toEqual({ N: "1" });
    await expect(old.heartbeat()).rejects.toBeInstanceOf(LockLostError);
    await expect(mine(STAGE).set("later", record(STAGE, "later"))).rejects.toBeInstanceOf(LockLostError);
    await taken.release();
  });

  it("refuses every write of a holder whose lease ran out, before sending it, in every scope of the stage", async () => {
    const { processes, item } = await setup();
    const [mine, theirs] = [processes(), processes()];
    const old = await mine(STAGE).lock(request("stalled", 300));
    await sleep(450);
    const taken = await theirs(STAGE).lock(request("next"));
    const results = await Promise.allSettled([
      mine(STAGE).set("api", record(STAGE, "api")),
      mine([...STAGE, "backend"]).delete("db"),
      mine(STAGE).setStageMeta({ late: true }),
    ]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(LockLostError);
      expect(((result as PromiseRejectedResult).reason as Error).message).toMatch(/could not renew it for \d+s, longer than its lease of 0s allows/);
    }
    expect(await item("/:api")).toBeUndefined();
    expect(await item("~meta")).toBeUndefined();
    await old.release();
    await taken.release();
  });

  it("does not send a retry of a write once the lease ran out while the SDK waited to retry", async () => {
    const { server, table, item } = await setup();
    const proxy = await startProxy(server.endpoint);
    proxies.push(proxy);
    const store = new DynamoDBStateStore({ chain: STAGE }, { ...testOptions(server, table), endpoint: proxy.endpoint });
    const lock = await store.lock(request("slow", 400));
    proxy.reset();
    proxy.fail({ operation: "UpdateItem", times: 5, delayMs: 400 }); // each attempt answers 500 after the lease's end
    const error = await store.set("api", record(STAGE, "api")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect(proxy.count("UpdateItem")).toBeLessThan(2);
    expect(await item("/:api")).toBeUndefined();
    proxy.stopFailing();
    await lock.release();
  });

  it("takes for the first lock of a stage whose lock item was deleted a token above every item's, so that earlier holders stay fenced", async () => {
    const { processes, setFence, deleteItem } = await setup();
    const store = processes()(STAGE);
    await store.set("api", record(STAGE, "api"));
    await setFence("/:api", 41);
    await store.setStageMeta({ v: 1 });
    const lock = await store.lock(request("one"));
    expect(lock.info.token).toBe(42);
    await store.set("api", record(STAGE, "api", { seq: 2 }));
    await lock.release();
    await deleteItem("~lock");
    const again = await store.lock(request("two"));
    expect(again.info.token).toBe(43);
    await again.release();
  });

  it("says the lock item went back, not that the lock was lost, when a record carries a later token than the lock it is still held by", async () => {
    const { server, setFence, table } = await setup();
    const store = new DynamoDBStateStore({ chain: STAGE }, testOptions(server, table));
    const lock = await store.lock(request("one"));
    await store.set("api", record(STAGE, "api"));
    await setFence("/:api", 7); // as if the lock item had been restored from an older backup
    const error = await store.set("api", record(STAGE, "api", { seq: 2 })).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as Error).message).toContain(`The item dynamodb://${table} pk=app/dev sk=/:api was written under a fencing token above 1, the token of this run's lock ${lock.info.id}`);
    expect((error as Error).message).toContain(
      `delete the lock item (aws dynamodb delete-item --table-name ${table} --region us-east-1 --endpoint-url ${server.endpoint} --key '{"pk":{"S":"app/dev"},"sk":{"S":"~lock"}}')`,
    );
    await lock.release();
  });

  it("names the holder and the lock item when the stage is locked, and waits for it", async () => {
    const { processes, table } = await setup();
    const [mine, theirs] = [processes(), processes()];
    const lock = await mine(STAGE).lock(request("deploy one"));
    const error = await theirs(STAGE).lock({ ...request("deploy two"), timeoutMs: 600 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StageLockedError);
    expect((error as StageLockedError).location).toBe(`dynamodb://${table} pk=app/dev sk=~lock`);
    expect((error as Error).message).toContain(`(deploy one), lock id ${lock.info.id}`);
    expect((error as Error).message).toContain("; waited 1s");
    await lock.release();
  });

  it("reports a damaged lock item naming it and the command that deletes it, and changes nothing", async () => {
    const { processes, table, item } = await setup();
    const store = processes()(STAGE);
    const lock = await store.lock(request("one"));
    await lock.release();
    const raw = separateClient(await dynalite());
    await raw.send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: "app/dev" }, sk: { S: "~lock" } }, UpdateExpression: "SET lockId = :x", ExpressionAttributeValues: { ":x": { S: "x" } } }));
    const error = await store.lock(request("two")).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).location).toBe(`dynamodb://${table} pk=app/dev sk=~lock`);
    expect((error as Error).message).toContain(`holds lock "x" without a readable holder`);
    expect((error as Error).message).toContain(`aws dynamodb delete-item --table-name ${table}`);
    expect((await item("~lock"))!.lockId).toEqual({ S: "x" });
  });
});
