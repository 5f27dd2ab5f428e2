/**
 * `plainHttpUrl`: an endpoint a client may send credentials to, parsed once
 * for every place that takes one (the Cloudflare API's base URL, an S3
 * endpoint).
 *
 * @module
 */

/**
 * `value` parsed when it is an http(s) URL without credentials, query or
 * fragment; otherwise `undefined`.
 *
 * @example
 * plainHttpUrl("https://s3.eu-west-1.amazonaws.com")?.href; // "https://s3.eu-west-1.amazonaws.com/"
 * plainHttpUrl("https://user:pw@example.com");               // undefined
 */
export function plainHttpUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  const plain = (url.protocol === "https:" || url.protocol === "http:") && !url.username && !url.password && !url.search && !url.hash;
  return plain ? url : undefined;
}
