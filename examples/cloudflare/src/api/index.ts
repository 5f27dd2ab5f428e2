// The API Worker: users in D1, a KV cache, jobs sent to the queue.
interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  JOBS: Queue<{ id: string; task: string }>;
  RESULTS: KVNamespace;
  GREETING: string;
  LIMITS: { pageSize: number };
  TOKEN: string;
}

const json = (value: unknown, status = 200) => Response.json(value, { status });

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, first, second] = url.pathname.split("/");
    if (url.pathname === "/") return new Response(`${env.GREETING} from the api\n`);
    if (url.pathname === "/config") return json({ limits: env.LIMITS, tokenLength: env.TOKEN.length });
    if (first === "users" && request.method === "GET") {
      const { results } = await env.DB.prepare("SELECT id, name FROM users ORDER BY id LIMIT ?").bind(env.LIMITS.pageSize).all();
      return json(results);
    }
    if (first === "users" && request.method === "POST") {
      const { name } = (await request.json()) as { name: string };
      const row = await env.DB.prepare("INSERT INTO users (name) VALUES (?) RETURNING id, name").bind(name).first();
      return json(row, 201);
    }
    if (first === "cache" && second && request.method === "PUT") {
      await env.CACHE.put(second, await request.text());
      return new Response(null, { status: 204 });
    }
    if (first === "cache" && second) {
      const value = await env.CACHE.get(second);
      return value === null ? new Response("not found\n", { status: 404 }) : new Response(value);
    }
    if (first === "jobs" && second && request.method === "POST") {
      await env.JOBS.send({ id: second, task: await request.text() });
      return new Response(null, { status: 202 });
    }
    if (first === "jobs" && second) {
      const done = await env.RESULTS.get(second);
      return done === null ? new Response("pending\n", { status: 404 }) : new Response(done);
    }
    return new Response("not found\n", { status: 404 });
  },
};
