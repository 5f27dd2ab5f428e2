import fs from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "./free-port.js";
import { LocalRuntimeError } from "./local-runtime-error.js";
import { LocalRuntime } from "./local-runtime.js";
import { eventually, isAlive, tempDir, textWorker, workerdChildren, workerSpec } from "./local-runtime.test-fixture.js";

const APP_CODE = `
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === "/send") {
      await env.QUEUE.send({ hello: "queue" });
      return new Response("sent");
    }
    await env.DB.exec("CREATE TABLE IF NOT EXISTS hits (n INTEGER)");
    await env.DB.prepare("INSERT INTO hits VALUES (?)").bind(1).run();
    const { results } = await env.DB.prepare("SELECT count(*) AS n FROM hits").all();
    await env.KV.put("from-worker", "kv-value");
    await env.BUCKET.put("from-worker", "r2-value");
    return Response.json({
      url: request.url,
      text: env.TEXT,
      secret: env.SECRET,
      config: env.CONFIG,
      hits: results[0].n,
      kv: await env.KV.get("from-worker"),
      r2: await (await env.BUCKET.get("from-worker")).text(),
      other: await (await env.OTHER.fetch("http://other/")).text(),
    });
  },
};`;

const CONSUMER_CODE = `
export default {
  fetch() { return new Response("consumer"); },
  async queue(batch, env) {
    for (const message of batch.messages) await env.KV.put("received", JSON.stringify(message.body));
  },
};`;

describe("LocalRuntime", () => {
  const root = tempDir("local-runtime");
  const warnings: string[] = [];
  const runtime = new LocalRuntime({ persistRoot: root, warn: (message) => warnings.push(message), output: () => {} });

  beforeAll(async () => {
    await Promise.all([runtime.declare("d1", "local-db"), runtime.declare("kv", "local-kv"), runtime.declare("r2", "bucket"), runtime.declare("queue", "jobs")]);
  });

  afterAll(async () => {
    await runtime.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("starts workerd once for resources declared at the same time", () => {
    expect(runtime.started).toBe(true);
    expect(runtime.starts).toBe(1);
  });

  it("serves a Worker with every kind of binding, and a queue consumer that receives what it sends, each on its own port", async () => {
    const consumer = await runtime.putWorker(
      workerSpec("consumer", CONSUMER_CODE, {
        bindings: [{ type: "kv_namespace", name: "KV", namespace_id: "local-kv" }],
        queueConsumers: [{ queue: "jobs", maxBatchTimeout: 0.1 }],
      }),
    );
    const app = await runtime.putWorker(
      workerSpec("app", APP_CODE, {
        bindings: [
          { type: "plain_text", name: "TEXT", text: "plain" },
          { type: "secret_text", name: "SECRET", text: "s3cret" },
          { type: "json", name: "CONFIG", json: { nested: [1, 2] } },
          { type: "d1", name: "DB", id: "local-db" },
          { type: "kv_namespace", name: "KV", namespace_id: "local-kv" },
          { type: "r2_bucket", name: "BUCKET", bucket_name: "bucket" },
          { type: "queue", name: "QUEUE", queue_name: "jobs" },
          { type: "service", name: "OTHER", service: "consumer" },
        ],
      }),
    );
    expect(app.port).not.toBe(consumer.port);
    expect(app.url).toBe(`http://127.0.0.1:${app.port}/`);

    const answer = await (await fetch(`${app.url}path?q=1`)).json();
    expect(answer).toEqual({
      url: `${app.url}path?q=1`,
      text: "plain",
      secret: "s3cret",
      config: { nested: [1, 2] },
      hits: 1,
      kv: "kv-value",
      r2: "r2-value",
      other: "consumer",
    });
    expect(await (await fetch(consumer.url)).text()).toBe("consumer");

    // Node reaches the same data through the control Worker.
    expect(await runtime.use("kv", "local-kv", (kv) => kv.get("from-worker"))).toBe("kv-value");
    const rows = await runtime.use("d1", "local-db", (db) => db.prepare("SELECT count(*) AS n FROM hits").all());
    expect(rows.results).toEqual([{ n: 1 }]);

    expect(await (await fetch(`${app.url}send`)).text()).toBe("sent");
    const received = await eventually(async () => (await runtime.use("kv", "local-kv", (kv) => kv.get("received"))) ?? undefined);
    expect(JSON.parse(received)).toEqual({ hello: "queue" });
  });

  it("serves the new code on the same URL when a Worker is put again", async () => {
    const first = await runtime.putWorker(textWorker("versioned", "v1"));
    expect(await (await fetch(first.url)).text()).toBe("v1");
    const second = await runtime.putWorker(textWorker("versioned", "v2"));
    expect(second).toEqual(first);
    expect(await (await fetch(second.url)).text()).toBe("v2");
  });

  it("serves a Worker on the port it asks for", async () => {
    const port = await findFreePort();
    const endpoint = await runtime.putWorker(textWorker("fixed-port", "fixed", { port }));
    expect(endpoint).toEqual({ url: `http://127.0.0.1:${port}/`, port });
    expect(await (await fetch(endpoint.url)).text()).toBe("fixed");
  });

  it("refuses a port another process listens on, naming the Worker and the port, and keeps serving the others", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const failure = await runtime.putWorker(textWorker("my-app-api-worker-alice", "never", { port })).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(LocalRuntimeError);
      expect((failure as LocalRuntimeError).code).toBe("port-in-use");
      expect((failure as Error).message).toContain(`Worker "my-app-api-worker-alice" cannot listen on 127.0.0.1:${port}: the port is in use. Free it, or pick another with dev: { port }`);
    } finally {
      blocker.close();
    }
    expect(await (await fetch(runtime.workers().get("versioned")!.url)).text()).toBe("v2");
  });

  it("refuses a port another Worker of the runtime is served on", async () => {
    const taken = runtime.workers().get("versioned")!.port;
    await expect(runtime.putWorker(textWorker("squatter", "never", { port: taken }))).rejects.toThrow(`Worker "versioned" of this run is served there`);
  });

  it("GIVEN a Worker whose code does not load WHEN put THEN workerd's error is reported and the previous version keeps serving", async () => {
    const broken = workerSpec("versioned", `export default { fetch() { return new Response("v3" } };`);
    const failure = await runtime.putWorker(broken).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LocalRuntimeError);
    expect((failure as LocalRuntimeError).code).toBe("runtime-failed");
    expect((failure as Error).message).toContain(`Worker "versioned"`);
    expect((failure as Error).message).toContain("SyntaxError");
    expect(await (await fetch(runtime.workers().get("versioned")!.url)).text()).toBe("v2");
  });

  it("applies Workers put at the same time in one restart, each resolving once it serves", async () => {
    const before = runtime.starts;
    const endpoints = await Promise.all(["a", "b", "c"].map((name) => runtime.putWorker(textWorker(`batch-${name}`, name))));
    expect(runtime.starts).toBe(before + 1);
    expect(new Set(endpoints.map((endpoint) => endpoint.port)).size).toBe(3);
    expect(await Promise.all(endpoints.map(async (endpoint) => (await fetch(endpoint.url)).text()))).toEqual(["a", "b", "c"]);
  });

  it("runs data calls made while Workers are being put without failing: changes wait for calls in flight, calls for changes", async () => {
    let putting = true;
    let calls = 0;
    // Calls back to back, each several round trips long, for as long as the puts take.
    const caller = (async () => {
      while (putting) {
        await runtime.use("kv", "local-kv", async (kv) => {
          for (let i = 0; i < 5; i++) await kv.put(`concurrent-${calls}-${i}`, "v");
        });
        calls++;
      }
    })();
    try {
      for (const name of ["x", "y", "z"]) await runtime.putWorker(textWorker(`concurrent-${name}`, name));
    } finally {
      putting = false;
    }
    await caller;
    expect(calls).toBeGreaterThan(3);
    expect(await runtime.use("kv", "local-kv", (kv) => kv.get(`concurrent-${calls - 1}-4`))).toBe("v");
  });

  it("stops serving a deleted Worker, and deleting it again succeeds", async () => {
    const { url } = await runtime.putWorker(textWorker("doomed", "here"));
    await runtime.deleteWorker("doomed");
    await expect(fetch(url)).rejects.toThrow();
    await runtime.deleteWorker("doomed");
    expect(runtime.workers().has("doomed")).toBe(false);
  });

  it("answers 503 naming a service-bound Worker it does not hold", async () => {
    const { url } = await runtime.putWorker(
      workerSpec("caller", `export default { fetch(request, env) { return env.GONE.fetch(request); } };`, {
        bindings: [{ type: "service", name: "GONE", service: "not-deployed" }],
      }),
    );
    const response = await fetch(url);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain(`Worker "not-deployed" is not running locally`);
  });

  it("refuses a Worker name reserved for the runtime", async () => {
    await expect(runtime.putWorker(textWorker("~control", "x"))).rejects.toThrow(`names starting with "~" are reserved`);
  });
});

describe("LocalRuntime.dispose", () => {
  it("stops its workerd process, refuses later calls, and may be called twice", async () => {
    const root = tempDir("local-runtime-dispose");
    const runtime = new LocalRuntime({ persistRoot: root, warn: () => {}, output: () => {} });
    try {
      const before = new Set(workerdChildren());
      await runtime.putWorker(textWorker("short-lived", "bye"));
      const started = workerdChildren().filter((pid) => !before.has(pid));
      expect(started).toHaveLength(1);
      await runtime.dispose();
      expect(isAlive(started[0]!)).toBe(false);
      await runtime.dispose();
      await expect(runtime.declare("kv", "local-late")).rejects.toThrow("has been stopped");
      await expect(runtime.putWorker(textWorker("late", "late"))).rejects.toThrow("has been stopped");
    } finally {
      await runtime.dispose();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("GIVEN a Worker being put WHEN the runtime is disposed THEN the put completes or is refused, and no workerd is left", async () => {
    const root = tempDir("local-runtime-dispose-during");
    const runtime = new LocalRuntime({ persistRoot: root, warn: () => {}, output: () => {} });
    const before = new Set(workerdChildren());
    const put = runtime.putWorker(textWorker("interrupted", "x")).then(
      () => "served",
      (error: Error) => error.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runtime.dispose();
    expect(await put).toMatch(/^served$|has been stopped/);
    expect(workerdChildren().filter((pid) => !before.has(pid))).toEqual([]);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
