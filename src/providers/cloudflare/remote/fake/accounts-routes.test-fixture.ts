/**
 * `GET /accounts`: the accounts the token may use, paged (default 20 a page, at most 50).
 */
import { ok, paginate } from "./envelope.test-fixture.js";
import type { Route } from "./router.test-fixture.js";

/** The routes of accounts. */
export const accountsRoutes: readonly Route[] = [
  {
    method: "GET",
    pattern: "/accounts",
    permission: "Account Settings Read",
    body: "none",
    handle: ({ state, query, grantedAccounts }) => {
      const visible = state.accounts.filter((account) => grantedAccounts === undefined || grantedAccounts.includes(account.id));
      const { items, info } = paginate(visible, query, { defaultPerPage: 20, minPerPage: 5, maxPerPage: 50 });
      return ok(
        items.map((account) => ({ id: account.id, name: account.name, type: "standard", settings: { enforce_twofactor: false }, created_on: "2024-01-01T00:00:00Z" })),
        info,
      );
    },
  },
];
