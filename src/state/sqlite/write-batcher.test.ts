import { describe, expect, it } from "vitest";
import { WriteBatcher } from "./write-batcher.js";

/** A batcher over a fake transaction that records each batch it commits. */
function recording(fail: (writes: readonly string[]) => boolean = () => false) {
  const committed: string[][] = [];
  const batcher = new WriteBatcher<string>(
    (writes) => {
      if (fail(writes)) throw new Error("disk on fire");
      committed.push([...writes]);
    },
    (write, error, size) => new Error(`${write} failed with ${size - 1} other(s): ${(error as Error).message}`),
  );
  return { batcher, committed };
}

describe("WriteBatcher", () => {
  it("commits the writes requested in one turn of the event loop together, in order", async () => {
    const { batcher, committed } = recording();
    const first = Promise.all(["a", "b", "c"].map((w) => batcher.write(w)));
    await Promise.resolve(); // a caller that awaits between writes still joins the batch
    const late = batcher.write("d");
    await Promise.all([first, late]);
    expect(committed).toEqual([["a", "b", "c", "d"]]);
    await batcher.write("e");
    expect(committed).toEqual([["a", "b", "c", "d"], ["e"]]);
    expect(batcher.batches).toBe(2);
  });

  it("resolves each write only after its batch has committed", async () => {
    const { batcher, committed } = recording();
    let resolvedWith: string[][] | undefined;
    await batcher.write("a").then(() => (resolvedWith = committed.map((b) => [...b])));
    expect(resolvedWith).toEqual([["a"]]);
  });

  it("rejects every write of a failed batch, and commits the next batch", async () => {
    const { batcher, committed } = recording((writes) => writes.includes("bad"));
    const results = await Promise.allSettled(["a", "bad", "c"].map((w) => batcher.write(w)));
    expect(results.map((r) => (r.status === "rejected" ? (r.reason as Error).message : "ok"))).toEqual([
      "a failed with 2 other(s): disk on fire",
      "bad failed with 2 other(s): disk on fire",
      "c failed with 2 other(s): disk on fire",
    ]);
    await batcher.write("d");
    expect(committed).toEqual([["d"]]);
  });

  it("rejects alone a write the commit refused, and resolves the others", async () => {
    const refused = new Error("fenced off");
    const batcher = new WriteBatcher<string>(
      (writes) => writes.map((w) => (w === "b" ? refused : undefined)),
      () => new Error("unused"),
    );
    const results = await Promise.allSettled(["a", "b", "c"].map((w) => batcher.write(w)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toBe(refused);
  });

  it("commits the pending writes at once on flush, so a reader sees them", async () => {
    const { batcher, committed } = recording();
    const pending = [batcher.write("a"), batcher.write("b")];
    expect(batcher.pending).toBe(2);
    batcher.flush();
    expect(committed).toEqual([["a", "b"]]);
    expect(batcher.pending).toBe(0);
    await Promise.all(pending);
    await new Promise((resolve) => setImmediate(resolve)); // the cancelled scheduled flush does not commit again
    expect(batcher.batches).toBe(1);
  });
});
