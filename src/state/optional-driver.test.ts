import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { AlchemyError } from "../core/errors.js";
import { installCommand, loadDriver } from "./optional-driver.js";

/** The drivers this test pretends are not installed. */
const missing = new Set<string>();
vi.mock("../core/peer-dependency.js", async (original) => {
  const actual = await original<typeof import("../core/peer-dependency.js")>();
  return {
    ...actual,
    requirePeer: (name: string) => {
      if (missing.has(name)) throw Object.assign(new Error(`Cannot find module '${name}'`), { code: "MODULE_NOT_FOUND" });
      return actual.requirePeer(name);
    },
  };
});

const readJson = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), "utf8"));
const pkg = readJson("package.json") as { peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, object>; devDependencies: Record<string, string> };

/** The message loadDriver throws for `name` when it is not installed. */
function missingDriverMessage(name: Parameters<typeof loadDriver>[0], store: string): string {
  missing.add(name);
  try {
    loadDriver(name, store);
  } catch (error) {
    expect(error).toBeInstanceOf(AlchemyError);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe("MODULE_NOT_FOUND");
    return (error as Error).message;
  } finally {
    missing.delete(name);
  }
  throw new Error(`loadDriver("${name}") did not throw`);
}

describe("loadDriver", () => {
  it("loads an installed driver", () => {
    expect(typeof loadDriver("@aws-sdk/client-dynamodb", "The DynamoDB state store").DynamoDBClient).toBe("function");
  });

  it.each([
    ["@aws-sdk/client-s3", "The S3 state store"],
    ["@aws-sdk/client-dynamodb", "The DynamoDB state store"],
  ] as const)("tells, when %s is missing, to install the version package.json pins as a peer, and why that one", (name, store) => {
    const version = pkg.peerDependencies[name];
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.devDependencies[name]).toBe(version); // the version the tests run against
    expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
    expect(installCommand(name)).toBe(`npm install ${name}@${version}`);
    expect(missingDriverMessage(name, store)).toBe(
      `${store} needs the ${name} package, which is not installed. Add it to the project: npm install ${name}@${version} ` +
        "(the version alchemy is tested with and names as its peer dependency: AWS SDK releases from January 2027 require Node 22)",
    );
  });

  it("tells, when a driver with a version range is missing, to install it without a version", () => {
    expect(missingDriverMessage("pg", "The PostgreSQL state store")).toBe("The PostgreSQL state store needs the pg package, which is not installed. Add it to the project: npm install pg");
  });
});

describe("package-lock.json", () => {
  it("lists the root package's peer dependencies as package.json does, so that npm ci installs what package.json says", () => {
    const root = readJson("package-lock.json").packages[""];
    expect(root.peerDependencies).toEqual(pkg.peerDependencies);
    expect(root.peerDependenciesMeta).toEqual(pkg.peerDependenciesMeta);
  });
});
