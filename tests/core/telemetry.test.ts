// OpenTelemetry through @opentelemetry/api: spans and metrics of worker batches, index runs,
// embedder and vector-store requests and search, read back from in-memory exporters; they carry
// ids and counts, never a text, a query or a key.
import type { MetricData } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { describeEachDatabase } from "../helpers/db.js";
import { reader, spans } from "../helpers/telemetry.js";
import { startOpenAIServer, type OpenAIServer } from "../servers/openai-server.js";

let openai: OpenAIServer;
beforeAll(async () => {
  openai = await startOpenAIServer();
});
afterAll(() => openai?.close());
beforeEach(() => spans.reset());

const SECRET_TEXT = ["quetzalcoatlus", "paleontology", "confidential"];
const QUERY = "pterosaur wingspan estimates";

async function collected(): Promise<MetricData[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
}

function byName(finished: ReadableSpan[], name: string): ReadableSpan[] {
  return finished.filter((span) => span.name === name);
}

describeEachDatabase(
  "telemetry",
  (target) => {
    it("traces worker batches, index runs, embedder and vector-store requests and search, with ids and counts only", async () => {
      const ds = await target.open({
        embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1` },
        vectorStore: { provider: "memory" },
        sync: { onWrite: "enqueue" },
      });
      const user = await ds.users.create({ email: `otel-${Math.random().toString(36).slice(2)}@example.com` });
      const docs = await Promise.all(
        [1, 2].map((i) => ds.documents.create({ userId: user.id, title: `notes ${i}`, source: "api", content: `${SECRET_TEXT.join(" ")} field notes ${i}` })),
      );
      await ds.sync.drain();
      const hits = await ds.search(QUERY, { userId: user.id, minScore: -1 });
      expect(hits.length).toBeGreaterThan(0);

      const finished = spans.getFinishedSpans();
      const [batch] = byName(finished, "dualstore.worker.batch");
      expect(batch!.attributes).toMatchObject({ "dualstore.jobs": 2, "dualstore.jobs.done": 2, "dualstore.jobs.dead": 0 });
      expect(batch!.attributes["dualstore.document.ids"]).toEqual(expect.arrayContaining(docs.map((d) => d.id)));

      const [index] = byName(finished, "dualstore.sync.index");
      expect(index!.attributes).toMatchObject({ "dualstore.document.count": 2, "dualstore.owner.ids": [user.id], "dualstore.documents.indexed": 2 });
      expect(index!.attributes["dualstore.chunks.embedded"]).toBeGreaterThanOrEqual(2);

      const embeds = byName(finished, "dualstore.embed");
      expect(embeds.length).toBeGreaterThanOrEqual(2); // the documents' chunks, then the query
      expect(embeds[0]!.attributes).toMatchObject({ "dualstore.embedder": expect.stringMatching(/^openai:/), "dualstore.attempts": 1 });
      expect(byName(finished, "dualstore.vector_store.upsert")).not.toHaveLength(0);
      expect(byName(finished, "dualstore.vector_store.query")).not.toHaveLength(0);

      const [search] = byName(finished, "dualstore.search");
      expect(search!.attributes).toMatchObject({ "dualstore.user.id": user.id, "dualstore.hits": hits.length });

      // Nothing textual or secret in any span: names, attributes, events, statuses.
      const exported = JSON.stringify(finished.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })));
      for (const word of [...SECRET_TEXT, ...QUERY.split(" "), openai.apiKey]) expect(exported).not.toContain(word);

      const recorded = await collected();
      const names = recorded.map((metric) => metric.descriptor.name);
      for (const name of ["dualstore.embedder.duration", "dualstore.vector_store.duration", "dualstore.search.duration", "dualstore.sync.jobs", "dualstore.sync.lag", "dualstore.embedder.tokens"]) {
        expect(names).toContain(name);
      }
      const jobs = recorded.find((metric) => metric.descriptor.name === "dualstore.sync.jobs")!;
      const done = jobs.dataPoints.filter((point) => point.attributes.outcome === "done").reduce((sum, point) => sum + (point.value as number), 0);
      expect(done).toBeGreaterThanOrEqual(2);
      const metricText = JSON.stringify(recorded.map((metric) => metric.dataPoints.map((point) => point.attributes)));
      for (const word of [...SECRET_TEXT, ...QUERY.split(" "), openai.apiKey]) expect(metricText).not.toContain(word);
    });

    it("marks a failed embedder request's span as an error with the error's code, and no text", async () => {
      const ds = await target.open({
        embedder: { provider: "openai", apiKey: openai.apiKey, baseURL: `${openai.url}/v1` },
        vectorStore: { provider: "memory" },
        sync: { onWrite: "enqueue", retry: { maxRetries: 0 }, jobs: { maxAttempts: 1 } },
      });
      const user = await ds.users.create({ email: `otel-fail-${Math.random().toString(36).slice(2)}@example.com` });
      await ds.documents.create({ userId: user.id, title: "doomed", source: "api", content: `${SECRET_TEXT.join(" ")} never embedded` });
      openai.faults.next("500");
      await ds.sync.drain();
      const [embed] = byName(spans.getFinishedSpans(), "dualstore.embed");
      expect(embed!.status.code).toBe(2);
      expect(embed!.attributes["dualstore.error.code"]).toBe("PROVIDER");
      expect(JSON.stringify({ status: embed!.status, attributes: embed!.attributes })).not.toContain(SECRET_TEXT[0]);
    });
  },
  { neon: false },
);
