// The site Worker: serves the files of the R2 bucket; PUT uploads one.
interface Env {
  ASSETS: R2Bucket;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const key = new URL(request.url).pathname.slice(1) || "index.html";
    if (request.method === "PUT") {
      await env.ASSETS.put(key, await request.arrayBuffer());
      return new Response(null, { status: 204 });
    }
    const object = await env.ASSETS.get(key);
    if (object === null) return new Response(`no ${key} yet\n`, { status: 404 });
    return new Response(object.body, { headers: { etag: object.httpEtag } });
  },
};
