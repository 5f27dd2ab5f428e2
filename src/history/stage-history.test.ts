import { describe, expect, it } from "vitest";
import { createMemoryStateTree, MemoryStateStore } from "../state/memory/memory-state-store.js";
import type { State } from "../state/state-store.js";
import { appendRun, keepsHistory, listRuns, recordsAt, type HistoryStore } from "./stage-history.js";

const stageStore = (): HistoryStore => {
  const store = new MemoryStateStore({ chain: ["app", "dev"] }, { tree: createMemoryStateTree() });
  if (!keepsHistory(store)) throw new Error("memory store keeps history");
  return store;
};
const rec = (id: string, props: unknown, seq = 1): State => ({ status: "created", kind: "test::Thing", id, fqn: `app/dev/${id}`, seq, data: {}, props, output: { id }, deps: [] });
const run = (command = "deploy", keep?: number) => ({ command, by: "ada@host", startedAt: Date.now(), outcome: "ok" as const, keep });

describe("a stage's history", () => {
  it("exports exactly the records after each run, also after changes that no entry describes (a killed run)", async () => {
    const store = stageStore();
    const states: State[][] = [
      [rec("a", { v: 1 }), rec("b", { v: 1 })],
      [rec("a", { v: 2 }, 2), rec("b", { v: 1 })],
      [rec("b", { v: 1 })], // a deleted
      [rec("a", { v: 9 }), rec("b", { v: 1 })], // a created again with seq 1: same seq as the first, other content
    ];
    const runs: string[] = [];
    for (const records of states) runs.push((await appendRun(store, records, run()))!.run);
    // A killed run changed b without an entry; the next run sees it in the records.
    const killed = [rec("a", { v: 9 }), rec("b", { v: 5 }, 7), rec("c", { v: 1 })];
    runs.push((await appendRun(store, killed, run()))!.run);
    for (const [i, records] of [...states, killed].entries()) expect(await recordsAt(store, runs[i]!)).toEqual([...records].sort((x, y) => (x.fqn < y.fqn ? -1 : 1)));
  });

  it("appends nothing for a run that leaves the records as the newest entry has them", async () => {
    const store = stageStore();
    await appendRun(store, [rec("a", { v: 1 })], run());
    expect(await appendRun(store, [rec("a", { v: 1 })], run())).toBeUndefined();
    expect(await listRuns(store)).toHaveLength(1);
  });

  it("lists per resource the action and the changed prop paths with before and after values", async () => {
    const store = stageStore();
    await appendRun(store, [rec("a", { v: 1, keep: true }), rec("b", { v: 1 })], run());
    const entry = await appendRun(store, [rec("a", { v: 2, keep: true }, 2), rec("c", { w: 1 })], run());
    expect(entry?.resources).toEqual([
      { fqn: "app/dev/a", kind: "test::Thing", action: "update", changes: [{ path: "v", before: 1, after: 2 }] },
      { fqn: "app/dev/b", kind: "test::Thing", action: "delete", changes: [{ path: "v", before: 1 }] },
      { fqn: "app/dev/c", kind: "test::Thing", action: "create", changes: [{ path: "w", after: 1 }] },
    ]);
    expect(entry).toMatchObject({ command: "deploy", by: "ada@host", outcome: "ok", keep: 100 });
  });

  it("shows a sealed secret as [secret], never its ciphertext", async () => {
    const store = stageStore();
    await appendRun(store, [rec("a", { token: { "@secret": "v1:CIPHERTEXT-ONE" } })], run());
    const entry = await appendRun(store, [rec("a", { token: { "@secret": "v1:CIPHERTEXT-TWO" } }, 2)], run("state rekey"));
    expect(entry?.resources[0]?.changes).toEqual([{ path: "token", before: "[secret]", after: "[secret]" }]);
    expect(JSON.stringify(await store.listHistory())).not.toContain("CIPHERTEXT");
  });

  it("keeps the newest runs only, and every kept run still exports exactly after the older ones are dropped", async () => {
    const store = stageStore();
    const runs: string[] = [];
    const all: State[][] = [];
    for (let i = 0; i < 8; i++) {
      const records = [rec("stable", { v: 0 }), rec("moving", { v: i }, i + 1), ...(i % 2 ? [rec(`odd${i}`, { i })] : [])];
      all.push(records);
      runs.push((await appendRun(store, records, run("deploy", 3)))!.run);
    }
    expect((await listRuns(store)).map((e) => e.run)).toEqual(runs.slice(-3).reverse());
    for (const i of [5, 6, 7]) expect(await recordsAt(store, runs[i]!)).toEqual([...all[i]!].sort((x, y) => (x.fqn < y.fqn ? -1 : 1)));
    await expect(recordsAt(store, runs[0]!)).rejects.toThrow(/has no run/);
  });

  it("a later run without a limit keeps the limit the newest entry says", async () => {
    const store = stageStore();
    for (let i = 0; i < 3; i++) await appendRun(store, [rec("a", { i }, i + 1)], run("deploy", 2));
    await appendRun(store, [rec("a", { i: 9 }, 9)], run("state rm"));
    expect(await listRuns(store)).toHaveLength(2);
  });
});
