// Reconcile against Pinecone (the real SDK against the protocol server), with a namespace per
// owner: vectors overwritten behind dualstore's back under their own ids, with another owner or
// another document in their metadata, are found by comparing metadata (one fetch request per
// 100 vectors of each namespace), and `fix` writes them anew.
import { Pinecone } from "@pinecone-database/pinecone";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDatabase } from "../helpers/db.js";
import { article } from "../helpers/text.js";
import { startPineconeServer, type PineconeServer } from "../servers/pinecone-server.js";

let pinecone: PineconeServer;
beforeAll(async () => {
  pinecone = await startPineconeServer();
});
afterAll(async () => {
  await pinecone?.close();
});

let indexCounter = 0;

describeEachDatabase("reconcile on Pinecone", (target) => {
  it("finds vectors whose owner or document was overwritten in their namespace, a fetch per 100 vectors, and fix writes them anew", async () => {
    const index = `reconcile-${target.name}-${++indexCounter}`;
    const ds = await target.open({
      embedder: { provider: "local", dimension: 32 },
      vectorStore: { provider: "pinecone", apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, index, createIfMissing: { cloud: "aws", region: "us-east-1" } },
      chunker: { chunkSize: 32, overlap: 0 },
      sync: { onWrite: "now", namespacing: "per-user" },
    });
    const alice = await ds.users.create({ email: "alice@example.com" });
    const bob = await ds.users.create({ email: "bob@example.com" });
    // Alice's namespace holds more than one fetch request's worth (Pinecone fetches 100 ids at most).
    const big = await ds.documents.create({ userId: alice.id, title: "long", source: "api", content: article(1, 40) });
    const small = await ds.documents.create({ userId: alice.id, title: "short", source: "api", content: article(2, 4) });
    await ds.documents.create({ userId: bob.id, title: "bob's", source: "api", content: article(3, 4) });
    const inAlice = pinecone.storedVectors(index, alice.id);
    const inBob = pinecone.storedVectors(index, bob.id);
    expect(inAlice.length).toBeGreaterThan(100);
    expect(inAlice.length).toBeLessThanOrEqual(200);
    expect(await ds.reconcile()).toMatchObject({ vectorsInStore: inAlice.length + inBob.length, orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });

    // Overwritten through the SDK under the same ids: one of the big document's vectors now names
    // Bob as its owner, one of the small document's claims to belong to the big one.
    const sdk = new Pinecone({ apiKey: pinecone.apiKey, controllerHostUrl: pinecone.url, maxRetries: 0 });
    const namespace = sdk.index({ name: index, namespace: alice.id });
    const [retargeted, misattributed] = [inAlice.find((v) => v.id.startsWith(`${big.id}#`))!, inAlice.find((v) => v.id.startsWith(`${small.id}#`))!];
    await namespace.upsert({
      records: [
        { id: retargeted.id, values: retargeted.values, metadata: { ...retargeted.metadata, owner: bob.id, userId: bob.id } },
        { id: misattributed.id, values: misattributed.values, metadata: { ...misattributed.metadata, documentId: big.id } },
      ],
    });

    const before = pinecone.requests.length;
    const report = await ds.reconcile();
    const requests = pinecone.requests.slice(before).map((request) => request.path.replace(/^\/data\/[^/]+/, ""));
    expect(report).toMatchObject({ vectorsInStore: inAlice.length + inBob.length, orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 2, documents: 2 } });
    expect(report.mismatched.sample.sort()).toEqual([retargeted.id, misattributed.id].sort());
    // Every vector's metadata is read: ⌈n / 100⌉ fetches per namespace (2 for Alice's, 1 for Bob's).
    const perNamespace = [inAlice.length, inBob.length].reduce((sum, n) => sum + Math.ceil(n / 100), 0);
    expect(requests.filter((path) => path.startsWith("/vectors/fetch"))).toHaveLength(perNamespace);
    expect(requests.filter((path) => path.startsWith("/vectors/list"))).toHaveLength(perNamespace);

    expect((await ds.reconcile({ fix: true })).fixed).toEqual({ orphansDeleted: 0, documentsEnqueued: 2 });
    await ds.sync.drain();
    expect(await ds.reconcile()).toMatchObject({ orphans: { count: 0 }, missing: { count: 0 }, mismatched: { count: 0 } });
    const repaired = pinecone.storedVectors(index, alice.id);
    expect(repaired.every((v) => v.metadata?.owner === alice.id && v.id.startsWith(`${v.metadata.documentId as string}#`))).toBe(true);
    const recorded = (await ds.prisma.document.findMany({ where: { userId: alice.id }, select: { vectorIds: true } })).flatMap((d) => d.vectorIds);
    expect(repaired.map((v) => v.id).sort()).toEqual(recorded.sort());
  });
});
