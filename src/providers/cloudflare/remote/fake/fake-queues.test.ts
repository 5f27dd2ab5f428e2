import { describe, expect, it } from "vitest";
import { call, inAccount, useFake } from "./fake-client.test-fixture.js";
import type { FakeCloudflare } from "./fake-cloudflare.test-fixture.js";

async function createQueue(fake: FakeCloudflare, name: string): Promise<string> {
  const res = await call(fake, "POST", inAccount(fake, "/queues"), { json: { queue_name: name } });
  expect(res.status).toBe(200);
  return res.body.result.queue_id as string;
}

async function uploadWorker(fake: FakeCloudflare, name: string, bindings: unknown[] = []): Promise<void> {
  const form = new FormData();
  form.set("metadata", JSON.stringify({ main_module: "index.js", bindings }));
  form.set("index.js", new Blob(["export default {}"], { type: "application/javascript+module" }), "index.js");
  expect((await call(fake, "PUT", inAccount(fake, `/workers/scripts/${name}`), { body: form })).status).toBe(200);
}

const consumer = { script_name: "consumer", type: "worker", settings: { batch_size: 5, max_retries: 2, max_wait_time_ms: 1000, retry_delay: 10 } };

describe("the fake Cloudflare API: queues", () => {
  const fake = useFake();

  it("creates a queue, and answers 409 with code 11009 when the name is taken", async () => {
    const res = await call(fake(), "POST", inAccount(fake(), "/queues"), { json: { queue_name: "jobs" } });
    expect(res.body.result).toMatchObject({ queue_id: expect.stringMatching(/^[0-9a-f]{32}$/), queue_name: "jobs", consumers: [], producers: [] });
    const again = await call(fake(), "POST", inAccount(fake(), "/queues"), { json: { queue_name: "jobs" } });
    expect(again.status).toBe(409);
    expect(again.body.errors[0].code).toBe(11009);
  });

  it("lists queues by page, and gets one with the Workers that bind it as producers", async () => {
    for (let i = 0; i < 3; i++) await createQueue(fake(), `q-${i}`);
    const page = await call(fake(), "GET", inAccount(fake(), "/queues?per_page=2"));
    expect(page.body.result).toHaveLength(2);
    expect(page.body.result_info).toEqual({ page: 1, per_page: 2, count: 2, total_count: 3, total_pages: 2 });
    const id = (await call(fake(), "GET", inAccount(fake(), "/queues?per_page=2&page=2"))).body.result[0].queue_id;
    await uploadWorker(fake(), "producer", [{ type: "queue", name: "Q", queue_name: "q-2" }]);
    expect((await call(fake(), "GET", inAccount(fake(), `/queues/${id}`))).body.result.producers).toEqual([{ type: "worker", script: "producer" }]);
  });

  it("updates a queue's name and settings, resetting the settings left out (no partial update), and refuses a name another queue holds", async () => {
    const id = await createQueue(fake(), "jobs");
    await createQueue(fake(), "other");
    const delayed = await call(fake(), "PUT", inAccount(fake(), `/queues/${id}`), { json: { queue_name: "jobs", settings: { delivery_delay: 30 } } });
    expect(delayed.body.result.settings).toEqual({ delivery_delay: 30, delivery_paused: false, message_retention_period: 345_600 });

    const renamed = await call(fake(), "PUT", inAccount(fake(), `/queues/${id}`), { json: { queue_name: "jobs-renamed" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.result).toMatchObject({ queue_id: id, queue_name: "jobs-renamed", settings: { delivery_delay: 0 } });
    expect((await call(fake(), "GET", inAccount(fake(), `/queues/${id}`))).body.result.queue_name).toBe("jobs-renamed");

    const taken = await call(fake(), "PUT", inAccount(fake(), `/queues/${id}`), { json: { queue_name: "other" } });
    expect(taken.status).toBe(409);
    expect(taken.body.errors[0].code).toBe(11009);
    expect((await call(fake(), "PUT", inAccount(fake(), `/queues/${"0".repeat(32)}`), { json: { queue_name: "x" } })).status).toBe(404);
  });

  it("deletes a queue, then answers 404 for it", async () => {
    const id = await createQueue(fake(), "gone");
    expect((await call(fake(), "DELETE", inAccount(fake(), `/queues/${id}`))).status).toBe(200);
    const missing = await call(fake(), "GET", inAccount(fake(), `/queues/${id}`));
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].code).toBe(11000);
  });
});

describe("the fake Cloudflare API: queue consumers", () => {
  const fake = useFake();

  it("adds a Worker consumer, lists it, refuses a second with 400 'already has a consumer', and removes it", async () => {
    const id = await createQueue(fake(), "work");
    await uploadWorker(fake(), "consumer");
    const added = await call(fake(), "POST", inAccount(fake(), `/queues/${id}/consumers`), { json: { ...consumer, dead_letter_queue: "work-dlq" } });
    expect(added.status).toBe(200);
    expect(added.body.result).toMatchObject({ script_name: "consumer", type: "worker", settings: consumer.settings, dead_letter_queue: "work-dlq" });
    const consumerId = added.body.result.consumer_id as string;
    expect((await call(fake(), "GET", inAccount(fake(), `/queues/${id}/consumers`))).body.result).toEqual([added.body.result]);

    const second = await call(fake(), "POST", inAccount(fake(), `/queues/${id}/consumers`), { json: consumer });
    expect(second.status).toBe(400);
    expect(second.body.errors[0].message).toContain("already has a consumer");

    expect((await call(fake(), "DELETE", inAccount(fake(), `/queues/${id}/consumers/${consumerId}`))).status).toBe(200);
    expect((await call(fake(), "DELETE", inAccount(fake(), `/queues/${id}/consumers/${consumerId}`))).status).toBe(404);
    expect((await call(fake(), "GET", inAccount(fake(), `/queues/${id}`))).body.result.consumers).toEqual([]);
  });

  it("refuses a consumer whose Worker does not exist, settings out of range, and the queue as its own dead letter queue", async () => {
    const id = await createQueue(fake(), "strict");
    expect((await call(fake(), "POST", inAccount(fake(), `/queues/${id}/consumers`), { json: consumer })).body.errors[0].message).toContain('"consumer" does not exist');
    await uploadWorker(fake(), "consumer");
    const tooBig = await call(fake(), "POST", inAccount(fake(), `/queues/${id}/consumers`), { json: { ...consumer, settings: { batch_size: 500 } } });
    expect(tooBig.body.errors[0].message).toContain("settings.batch_size");
    const loop = await call(fake(), "POST", inAccount(fake(), `/queues/${id}/consumers`), { json: { ...consumer, dead_letter_queue: "strict" } });
    expect(loop.status).toBe(400);
  });

  it("fills the settings a Worker consumer leaves out with Cloudflare's defaults", async () => {
    const id = await createQueue(fake(), "defaults");
    await uploadWorker(fake(), "consumer");
    const added = await call(fake(), "POST", inAccount(fake(), `/queues/${id}/consumers`), { json: { script_name: "consumer", type: "worker" } });
    expect(added.body.result.settings).toEqual({ batch_size: 10, max_retries: 3, max_wait_time_ms: 5000 });
  });
});
