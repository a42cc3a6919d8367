import { expect, it } from "vitest";
import type { QueryEvent } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";

describeEachDatabase("database.onQuery", (target) => {
  it("reports each statement a transaction sends exactly once: BEGIN, the work, COMMIT", async () => {
    const events: QueryEvent[] = [];
    const ds = await target.open({ database: { onQuery: (event) => events.push(event) }, vectorStore: null });
    const user = await ds.users.create({ email: "events@example.com" });
    events.length = 0;
    await ds.transaction(async (tx) => {
      await tx.chats.create({ userId: user.id, title: "one" });
    });
    const kinds = events.map((event) => event.sql.trim().split(/\s+/)[0]!.toUpperCase());
    expect(kinds.filter((kind) => kind === "BEGIN")).toHaveLength(1);
    expect(kinds.filter((kind) => kind === "COMMIT")).toHaveLength(1);
    expect(kinds.filter((kind) => kind === "INSERT")).toHaveLength(1);
    for (const event of events) expect(event.durationMs).toBeGreaterThanOrEqual(0);
  });
});
