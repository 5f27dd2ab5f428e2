import { describe, expect, it } from "vitest";
import { StateStoreError } from "../../core/errors.js";
import { describeStateStore } from "../../testing/state-store-conformance.js";
import type { State } from "../state-store.js";
import { MemoryStateStore, createMemoryStateTree } from "./memory-state-store.js";

describeStateStore("MemoryStateStore", async () => {
  const tree = createMemoryStateTree();
  return {
    factory: (scope) => new MemoryStateStore(scope, { tree }),
    reopen: () => (scope) => new MemoryStateStore(scope, { tree }),
  };
});

const chain = ["app", "dev"];
const state = (id: string): State => ({
  status: "created", kind: "test::Thing", id, fqn: `app/dev/${id}`, seq: 1, data: {}, props: {}, output: {}, deps: [],
});

describe("MemoryStateStore", () => {
  it("hands out copies, so changing a record read or written does not change the store", async () => {
    const store = new MemoryStateStore({ chain }, { tree: createMemoryStateTree() });
    const written = state("api");
    await store.set("api", written);
    written.seq = 99;
    const read = (await store.get("api"))!;
    read.data.changed = true;
    expect(await store.get("api")).toEqual(state("api"));
  });

  it("shares records between stores created without a tree (process-wide)", async () => {
    const scope = { chain: ["memory-default-test", "dev"] };
    await new MemoryStateStore(scope).set("api", { ...state("api"), fqn: "memory-default-test/dev/api" });
    expect(await new MemoryStateStore(scope).list()).toEqual(["api"]);
    await new MemoryStateStore(scope).delete("api");
  });

  it("refuses to read a record whose fqn claims another stage, as the persistent stores do", async () => {
    const tree = createMemoryStateTree();
    const store = new MemoryStateStore({ chain }, { tree });
    tree.records("app/dev", true).set("api", JSON.stringify({ ...state("api"), fqn: "app/prod/api" }));
    for (const read of [() => store.get("api"), () => store.all(), () => store.getBatch(["api"])]) {
      const error = await read().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).location).toBe("memory:app/dev/api");
      expect((error as Error).message).toMatch(/^The record memory:app\/dev\/api is not a state record: it holds fqn "app\/prod\/api" but is stored as "app\/dev\/api"/);
    }
  });

  it("keeps trees apart", async () => {
    await new MemoryStateStore({ chain }, { tree: createMemoryStateTree() }).set("api", state("api"));
    expect(await new MemoryStateStore({ chain }, { tree: createMemoryStateTree() }).count()).toBe(0);
  });

  it("rejects a record whose id is not the id it is stored under", async () => {
    const store = new MemoryStateStore({ chain }, { tree: createMemoryStateTree() });
    await expect(store.set("api", state("web"))).rejects.toThrow(StateStoreError);
    await expect(store.set("api", { ...state("api"), status: "gone" } as unknown as State)).rejects.toThrow(/status "gone"/);
  });

  it("rejects a record that JSON cannot hold", async () => {
    const store = new MemoryStateStore({ chain }, { tree: createMemoryStateTree() });
    await expect(store.set("api", { ...state("api"), output: { n: 1n } })).rejects.toThrow(/cannot be stored as JSON/);
    expect(await store.count()).toBe(0);
  });
});
