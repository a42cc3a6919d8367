import { beforeAll, expect, it } from "vitest";
import { NotFoundError, type Dualstore, type User } from "../../src/index.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import { seededRandom, sentence } from "../helpers/text.js";

describeEachDatabase("tenant isolation under random use", (target) => {
  let ds: Dualstore;
  let users: User[];
  const owners = new Map<string, string | null>();
  const random = seededRandom(20261121);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;

  beforeAll(async () => {
    ds = await target.open({ vectorStore: { provider: "memory" }, chunker: { chunkSize: 64, overlap: 8 }, sync: { onWrite: "none" } });
    users = [];
    for (let i = 0; i < 5; i++) users.push(await ds.users.create({ email: `tenant${i}@example.com` }));
    const tags = ["alpha", "beta", "gamma", "delta"];
    for (let i = 0; i < 120; i++) {
      const owner = random() < 0.2 ? null : pick(users).id;
      const doc = await ds.documents.create({
        userId: owner,
        title: sentence(random, 4),
        source: pick(["upload", "url", "api", "system"] as const),
        content: Array.from({ length: 4 }, () => sentence(random)).join(" "),
        tags: [pick(tags), pick(tags)],
      });
      owners.set(doc.id, owner);
    }
    await ds.indexDocuments([...owners.keys()]);
  });

  it("never returns another user's document from any search, whatever the query and filters (seeded)", async () => {
    let hits = 0;
    for (let round = 0; round < 150; round++) {
      const viewer = random() < 0.15 ? null : pick(users).id;
      const options = {
        topK: 1 + Math.floor(random() * 20),
        minScore: -1,
        ...(random() < 0.3 ? { tags: [pick(["alpha", "beta", "gamma", "delta"])] } : {}),
        ...(random() < 0.2 ? { source: pick(["upload", "url", "api", "system"] as const) } : {}),
        // Asking for someone else's documents by id must not get them either.
        ...(random() < 0.2 ? { documentIds: [...owners.keys()].filter(() => random() < 0.3).slice(0, 20) } : {}),
      };
      const results =
        viewer === null || random() < 0.5
          ? await ds.search(sentence(random, 5), { userId: viewer, ...options })
          : await ds.as(viewer).search(sentence(random, 5), options);
      for (const hit of results) {
        const owner = owners.get(hit.document.id);
        expect(owner === null || owner === viewer).toBe(true);
        expect(hit.document.userId).toBe(owner);
      }
      hits += results.length;
    }
    expect(hits).toBeGreaterThan(200);
  });

  it("never lets a scoped read reach another user's rows (seeded)", async () => {
    const chats = [];
    for (const user of users) chats.push({ owner: user.id, chat: await ds.chats.create({ userId: user.id, title: "c" }) });
    for (let round = 0; round < 100; round++) {
      const viewer = pick(users).id;
      const scoped = ds.as(viewer);
      const [documentId, owner] = pick([...owners.entries()]);
      if (owner === null || owner === viewer) expect((await scoped.documents.get(documentId)).id).toBe(documentId);
      else await rejectsWith(scoped.documents.get(documentId), NotFoundError);
      const { owner: chatOwner, chat } = pick(chats);
      if (chatOwner === viewer) expect((await scoped.chats.get(chat.id)).id).toBe(chat.id);
      else await rejectsWith(scoped.chats.get(chat.id), NotFoundError);
      const listed = await scoped.documents.list({ limit: 100 });
      for (const doc of listed.items) expect(doc.userId === null || doc.userId === viewer).toBe(true);
    }
  });
});
