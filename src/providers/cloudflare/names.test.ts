import { describe, expect, it } from "vitest";
import { KV_TITLE, nameOf, physicalName, WORKER_NAME } from "./names.js";

describe("physical names of Cloudflare resources", () => {
  it("are the application, nested scopes, id and stage, lowercased and dashed", () => {
    expect(physicalName("my-app/pr-123/api-worker", WORKER_NAME)).toBe("my-app-api-worker-pr-123");
    expect(physicalName("my-app/alice/api/api-worker", WORKER_NAME)).toBe("my-app-api-api-worker-alice");
    expect(physicalName("My_App/Bob.Smith/db", WORKER_NAME)).toBe("my-app-db-bob-smith");
  });

  it("differ between two stages, and between two scopes holding the same id", () => {
    const names = ["app/a/x", "app/b/x", "app/a/s1/x", "app/a/s2/x"].map((fqn) => physicalName(fqn, WORKER_NAME));
    expect(new Set(names).size).toBe(4);
  });

  it("stay within the kind's limit, unique by a hash of the whole name when cut", () => {
    const long = (stage: string) => physicalName(`application-with-a-long-name/${stage}/service/worker-with-a-rather-long-id`, WORKER_NAME);
    expect(long("pr-1").length).toBeLessThanOrEqual(63);
    expect(long("pr-1")).not.toBe(long("pr-2"));
    expect(long("pr-1")).toMatch(/^[a-z0-9-]+-[0-9a-f]{8}$/);
  });

  it("take a name prop as given, and refuse one the kind does not accept, naming the resource", () => {
    expect(nameOf("app/dev/w", "custom-name", WORKER_NAME, "create")).toBe("custom-name");
    expect(() => nameOf("app/dev/w", "Bad_Name", WORKER_NAME, "create")).toThrow(/Worker app\/dev\/w may hold only lowercase/);
    expect(nameOf("app/dev/kv", "Any Title: fine", KV_TITLE, "create")).toBe("Any Title: fine");
  });
});
