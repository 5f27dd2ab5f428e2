import { describe, expect, it } from "vitest";
import { StateStoreError } from "../core/errors.js";
import { assertWritableState, parseStateFile, readStoredState, stateProblem } from "./state-record.js";
import type { State } from "./state-store.js";

const record = (overrides: Partial<State> = {}): State => ({
  status: "created", kind: "test::Thing", id: "a", fqn: "y/dev/a", seq: 1, data: {}, props: {}, output: {}, deps: [], ...overrides,
});
const FILE = "/abs/.alchemy/y/dev/a.json";

describe("a record is checked against the place it is stored at", () => {
  it("accepts a record whose fqn is the place it is stored at", () => {
    expect(stateProblem(record(), "a", "y/dev/a")).toBeUndefined();
    expect(parseStateFile(JSON.stringify(record()), FILE, "a", "y/dev/a")).toEqual(record());
  });

  it.each([
    ["another stage", "y/prod/a"],
    ["another app", "x/dev/a"],
    ["another scope", "y/dev/inner/a"],
    ["another id", "y/dev/b"],
  ])("refuses to read a record whose fqn names %s, naming the file, both fqns and how to fix it", (_what, claim) => {
    const error = (() => {
      try {
        parseStateFile(JSON.stringify(record({ fqn: claim })), FILE, "a", "y/dev/a");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).location).toBe(FILE);
    expect((error as Error).message).toBe(
      `State file ${FILE} is not a state record: it holds fqn "${claim}" but is stored as "y/dev/a" ` +
        `(a record describes only the resource stored at its place: if it is that resource, set its "fqn" to "y/dev/a"). ` +
        "Nothing was changed. Restore it from a backup, or remove the record with `alchemy state rm y/dev/a` or by deleting the file " +
        "(the resource it describes is then no longer tracked).",
    );
  });

  it("refuses to write a record whose fqn is not the place it is written to, when the store says where that is", () => {
    expect(() => assertWritableState(record({ fqn: "y/prod/a" }), "a", "memory:y/dev/a", "y/dev/a")).toThrow(
      /Refusing to write record "a" at memory:y\/dev\/a: the value holds fqn "y\/prod\/a" but is stored as "y\/dev\/a"/,
    );
    expect(() => assertWritableState(record(), "a", "memory:y/dev/a", "y/dev/a")).not.toThrow();
  });
});

describe("a record in seed 002's format, without deps", () => {
  const { deps: _none, ...seedFormat } = record();

  it("is read as a record without dependencies", () => {
    expect(parseStateFile(JSON.stringify(seedFormat), FILE, "a", "y/dev/a")).toEqual(record({ deps: [] }));
    expect(readStoredState(seedFormat, "a", "y/dev/a")).toEqual(record({ deps: [] }));
  });

  it("is still checked like any record: a deps that is there must be a list of fqns", () => {
    for (const deps of [null, "y/dev/b", [1], {}]) {
      expect(readStoredState({ ...seedFormat, deps }, "a", "y/dev/a")).toMatch(/^has field "deps" .*, expected an array of fqn strings$/);
    }
    expect(readStoredState({ ...seedFormat, fqn: "y/prod/a" }, "a", "y/dev/a")).toMatch(/^holds fqn "y\/prod\/a" but is stored as "y\/dev\/a"/);
  });

  it("is never written: a record without deps is refused by every write", () => {
    expect(() => assertWritableState(seedFormat, "a", "memory:y/dev/a", "y/dev/a")).toThrow(
      'Refusing to write record "a" at memory:y/dev/a: the value has field "deps" missing, expected an array of fqn strings.',
    );
  });
});

describe("protect and retain in a record", () => {
  it("are read as they were written", () => {
    const guarded = record({ protect: true, retain: true });
    expect(parseStateFile(JSON.stringify(guarded), FILE, "a", "y/dev/a")).toEqual(guarded);
  });

  it.each([["protect", "yes"], ["retain", 1], ["protect", null]])("refuses a hand-edited %s that is not true or false, naming the file", (field, value) => {
    expect(() => parseStateFile(JSON.stringify({ ...record(), [field]: value }), FILE, "a", "y/dev/a")).toThrow(
      `State file ${FILE} is not a state record: it has field "${field}" ${value === null ? "null" : typeof value === "string" ? `"${value}"` : "number 1"}, expected true or false`,
    );
  });
});
