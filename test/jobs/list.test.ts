import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JobView } from "../../src/jobs/view.ts";
import { expectProblem } from "../support/http.ts";
import { expectLedgerOk } from "../support/ledger.ts";
import { api, createEcho, deliver, type Funded, fundedUser } from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
let created: JobView[];
beforeAll(async () => {
  user = await fundedUser(1000);
  created = [];
  for (let i = 0; i < 5; i += 1) created.push((await createEcho(user, { message: `m${i}` })).job);
  await deliver([{ job_id: created[0]?.id }, { job_id: created[1]?.id }]);
});

type Page = { data: JobView[]; next_cursor: string | null };
const list = async (query = "", auth = user.auth) => {
  const response = await api(`/api/jobs${query}`, { headers: auth });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
};

describe("GET /api/jobs", () => {
  it("pages through the caller's jobs newest first, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((job) => job.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(created.map((job) => job.id).reverse());
  });

  it("filters by status", async () => {
    const succeeded = await list("?status=succeeded");
    expect(succeeded.data.map((job) => job.id).sort()).toEqual([created[0]?.id, created[1]?.id].sort());
    expect((await list("?status=queued")).data).toHaveLength(3);
    expect((await list("?status=failed")).data).toEqual([]);
  });

  it("shows no other account's jobs", async () => {
    const other = await fundedUser(0);
    expect(await list("", other.auth)).toEqual({ data: [], next_cursor: null });
  });

  it.each([
    ["an unknown status", "?status=done", "status"],
    ["a limit over 100", "?limit=101", "limit"],
    ["a forged cursor", `?cursor=${btoa("not a cursor")}`, "cursor"],
  ])("%s is 400 naming the field", async (_, query, path) => {
    const problem = await expectProblem(
      await api(`/api/jobs${query}`, { headers: user.auth }),
      400,
      "validation_failed",
    );
    expect(problem.errors).toEqual([expect.objectContaining({ path })]);
  });
});

describe("GET /api/jobs/:id", () => {
  it("answers the caller's job", async () => {
    const response = await api(`/api/jobs/${created[0]?.id}`, { headers: user.auth });
    expect(await response.json()).toMatchObject({
      id: created[0]?.id,
      status: "succeeded",
      output: { message: "m0" },
    });
  });

  it("another account's job is a 404 identical to a missing one", async () => {
    const other = await fundedUser(0);
    const theirs = await api(`/api/jobs/${created[2]?.id}`, { headers: other.auth });
    const missing = await api(`/api/jobs/${crypto.randomUUID()}`, { headers: other.auth });
    const strip = async (r: Response) => {
      const { request_id: _, ...body } = (await r.json()) as Record<string, unknown>;
      return { status: r.status, body };
    };
    expect(await strip(theirs)).toEqual(await strip(missing));
    expect(theirs.status).toBe(404);
  });
});
