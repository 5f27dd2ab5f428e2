import { describe, expect, it } from "vitest";
import type { State } from "../../state/state-store.js";
import { newKey, open, seal } from "./secret-box.js";
import { firstSealedPath, isSealed, needsSealing, openState, sealState } from "./secret-codec.js";
import { Secret } from "./secret.js";

const state = (extra: Partial<State>): State => ({
  status: "created", kind: "k", id: "db", fqn: "app/dev/db", seq: 1, data: {}, props: {}, output: {}, deps: [], ...extra,
});

describe("secrets in records", () => {
  it("seals every secret of props, output, data and replaced instances, and opens them back", async () => {
    const { key } = await newKey("pw", "app/dev");
    const plain = state({
      props: { user: "admin", password: new Secret("p-1"), list: [new Secret("p-2")] },
      output: { token: new Secret("t-1") },
      data: { extra: new Secret("d-1") },
      replaced: [{ props: { password: new Secret("old") }, output: {}, deps: [] }],
    });
    expect(needsSealing(plain)).toBe(true);
    const sealed = sealState(plain, (text, ad) => seal(key, text, ad));
    const text = JSON.stringify(sealed);
    for (const canary of ["p-1", "p-2", "t-1", "d-1", "old"]) expect(text).not.toContain(`"${canary}"`);
    expect(isSealed(sealed)).toBe(true);
    expect(firstSealedPath(sealed)).toBe("props.password");
    const opened = openState(JSON.parse(text), (envelope, ad) => open(key, envelope, ad)!);
    expect((opened.props as { password: Secret }).password.unwrap()).toBe("p-1");
    expect((opened.props as { list: Secret[] }).list[0]!.unwrap()).toBe("p-2");
    expect((opened.output as { token: Secret }).token.unwrap()).toBe("t-1");
    expect((opened.replaced![0]!.props as { password: Secret }).password.unwrap()).toBe("old");
  });

  it("binds each value to its record and field: a ciphertext moved elsewhere does not open", async () => {
    const { key } = await newKey("pw", "app/dev");
    const sealed = sealState(state({ props: { a: new Secret("x"), b: "y" } }), (text, ad) => seal(key, text, ad)) as State & { props: Record<string, unknown> };
    const moved = { ...sealed, props: { a: "y", b: sealed.props.a } };
    expect(() => openState(moved, (envelope, ad) => open(key, envelope, ad) ?? (() => { throw new Error("no"); })())).toThrow("no");
    const otherRecord = { ...sealed, fqn: "app/dev/api" };
    expect(() => openState(otherRecord, (envelope, ad) => open(key, envelope, ad) ?? (() => { throw new Error("no"); })())).toThrow("no");
  });
});
