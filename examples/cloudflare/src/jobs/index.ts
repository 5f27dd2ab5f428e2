// The job Worker: consumes the queue, records each job's result in KV.
interface Env {
  RESULTS: KVNamespace;
}

export default {
  async queue(batch: MessageBatch<{ id: string; task: string }>, env: Env): Promise<void> {
    for (const message of batch.messages) {
      await env.RESULTS.put(message.body.id, `done: ${message.body.task}`);
      message.ack();
    }
  },
};
