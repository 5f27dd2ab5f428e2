import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startDynaliteProcess, CHILD_AWS_ENV, type Dynalite } from "../state/dynamodb/dynamodb.test-fixture.js";
import { emulatorEnv, useS3Emulator } from "../state/s3/s3-emulator.test-fixture.js";
import { cleanUpAfterEach, deployedShop, SECRET_VALUE, SHOP_DEPENDENCIES, SHOP_FQNS, startUi } from "./ui.test-fixture.js";

// The cloud stores against their emulators (s3rver, dynalite): these prove the
// UI reads them through the StateStore interface, not how S3 or DynamoDB behave.
cleanUpAfterEach();
afterEach(() => void vi.unstubAllEnvs());
const s3 = useS3Emulator(["state"]);
let dynalite: Dynalite;
beforeAll(async () => void (dynalite = await startDynaliteProcess()), 60_000);
afterAll(async () => void (await dynalite?.close()));

const cases: Array<[string, () => Promise<{ url: string; env: NodeJS.ProcessEnv }>]> = [
  ["S3 (s3rver)", async () => ({ url: (await s3()).url("state", `ui-${randomUUID()}`), env: emulatorEnv() })],
  ["DynamoDB (dynalite)", async () => ({ url: `dynamodb://ui-${randomUUID()}?endpoint=${dynalite.endpoint}&createTable=true`, env: CHILD_AWS_ENV })],
];

describe.each(cases)("alchemy ui on %s", (_name, store) => {
  it("finds the application without --app, and answers the stage, a resource and the history, with no secret", async () => {
    const { url, env } = await store();
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
    const { dir } = await deployedShop(url, env);
    const ui = await startUi(dir, url);

    const overview = await (await ui.get("/api/overview")).text();
    expect(JSON.parse(overview).apps).toEqual([{ app: "shop", stages: [expect.objectContaining({ stage: "dev", resources: SHOP_FQNS.length })] }]);
    const stage = JSON.parse(await (await ui.get("/api/stage?app=shop&stage=dev")).text());
    expect(stage.nodes.map((n: { fqn: string }) => n.fqn)).toEqual(SHOP_FQNS);
    expect(stage.edges).toHaveLength(SHOP_DEPENDENCIES);
    const vault = await (await ui.get("/api/resource?fqn=shop/dev/vault")).text();
    expect(JSON.parse(vault)).toMatchObject({ props: { key: "[secret]" }, history: [expect.objectContaining({ command: "deploy" })] });
    const history = await (await ui.get("/api/history?app=shop&stage=dev")).text();
    expect(JSON.parse(history).entries).toHaveLength(1);
    expect([overview, JSON.stringify(stage), vault, history].join("\n")).not.toContain(SECRET_VALUE);
  });
});
