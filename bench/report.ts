/** The tables the bench prints: one per corpus size, plus the scaling run. */
import type { Library, SizeResult, Summary } from "./compare.js";
import { isSearch, SCENARIOS, SCENARIO_TITLES, type Scenario } from "./protocol.js";
import type { ScaleResult } from "./scale.js";

const LABEL: Record<Library, string> = { dualstore: "dualstore", langchain: "LangChain" };

function count(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** A duration: seconds for a scenario, milliseconds for one search query. */
function duration(ms: number, scenario: Scenario): string {
  if (isSearch(scenario)) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}

function factor(value: number | undefined): string {
  return value === undefined ? "—" : value.toFixed(2);
}

function vectorCell(summary: Summary): string {
  const e = summary.vectorByEndpoint;
  const rejected = e.rejected > 0 ? `, ${count(e.rejected)} refused` : "";
  return `${count(summary.vectorRequests)} (${[e.upsert, e.query, e.delete, e.list, e.fetch].map(count).join("/")}${rejected})`;
}

/** Renders rows as an aligned Markdown table. */
export function table(header: string[], rows: string[][], leftColumns = 2): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)));
  const left = (i: number) => i < leftColumns;
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (left(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`;
  const rule = widths.map((w, i) => (left(i) ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`));
  return [line(header), `|${rule.join("|")}|`, ...rows.map(line)].join("\n");
}

export function compareTable(result: SizeResult): string {
  const header = ["scenario", "library", "CPU", "wall", "embed req", "texts embedded", "vector req (up/query/del/list/fetch)", "SQL (time)", "peak RSS MiB"];
  const rows: string[][] = [];
  for (const scenario of SCENARIOS) {
    const s = result.scenarios[scenario];
    const title = SCENARIO_TITLES[scenario] + (isSearch(scenario) ? " (per query)" : "");
    for (const library of ["dualstore", "langchain"] as const) {
      const m = s.median[library];
      if (!m) continue;
      rows.push([
        library === "dualstore" ? title : "",
        LABEL[library],
        duration(m.cpuMs, scenario),
        duration(m.wallMs, scenario),
        count(m.embedRequests),
        count(m.textsEmbedded),
        vectorCell(m),
        `${count(m.sql)} (${duration(m.sqlMs, scenario)})`,
        count(m.peakRssMb),
      ]);
    }
    const r = s.ratio;
    if (s.median.langchain) rows.push(["", "ratio ds/LC", factor(r.cpuMs), factor(r.wallMs), factor(r.embedRequests), factor(r.textsEmbedded), factor(r.vectorRequests), factor(r.sql), factor(r.peakRssMb)]);
  }
  const c = result.corpus;
  // Both libraries run these two scenarios.
  const index = result.scenarios.index.median as Record<Library, Summary>;
  const detail = (library: Library) => result.scenarios.index.runs[library][0]?.detail ?? {};
  const search = result.scenarios.search.median as Record<Library, Summary>;
  const hybrid = result.scenarios.hybrid.median.dualstore;
  const busy = (library: Library) =>
    SCENARIOS.flatMap((scenario) => {
      const m = result.scenarios[scenario].median[library];
      return m ? [m.machineBusyPct.toFixed(0)] : [];
    }).join("/");
  const notes = [
    `${c.documents.toLocaleString("en-US")} documents, ${(c.characters / 1e6).toFixed(1)} M characters ` +
      `(${Object.entries(c.byClass).filter(([, n]) => n > 0).map(([kind, n]) => `${n} ${kind}`).join(", ")}); ` +
      `${result.runs} run${result.runs === 1 ? "" : "s"}, medians shown.`,
    `CPU: user + system time of the library's own process (search: mean per query). ` +
      `The machine is shared: 1-minute load average at the start of each run ${result.loadAverage.join(", ")}; ` +
      `all cores busy during each scenario (${SCENARIOS.join("/")}, every process on the machine) ${busy("dualstore")}% while dualstore ran, ${busy("langchain")}% while LangChain ran.`,
    `Chunks: dualstore ${count(detail("dualstore").chunks ?? Number.NaN)} (512 approx. tokens, 50 overlap), ` +
      `LangChain ${count(detail("langchain").chunks ?? Number.NaN)} (${count(result.splitter.chunkSize)} characters, ${count(result.splitter.chunkOverlap)} overlap). ` +
      `First index: ${count(index.dualstore.vectorsUpserted)} vs ${count(index.langchain.vectorsUpserted)} vectors upserted in ` +
      `${count(index.dualstore.vectorRequestMb)} vs ${count(index.langchain.vectorRequestMb)} MiB of request bodies; ` +
      `requests to the two services together ${count(index.dualstore.requests)} vs ${count(index.langchain.requests)}.`,
    `Search (${count(result.scenarios.search.runs.dualstore[0]?.queries?.count ?? Number.NaN)} queries, topK 10, hits hydrated from PostgreSQL): ` +
      `CPU per query median ${search.dualstore.queries?.cpuMedianMs.toFixed(2)} vs ${search.langchain.queries?.cpuMedianMs.toFixed(2)} ms, ` +
      `p95 ${search.dualstore.queries?.cpuP95Ms.toFixed(2)} vs ${search.langchain.queries?.cpuP95Ms.toFixed(2)} ms; ` +
      `wall p95 ${search.dualstore.queries?.wallP95Ms.toFixed(1)} vs ${search.langchain.queries?.wallP95Ms.toFixed(1)} ms. ` +
      `Both sides run a vector query (dualstore: mode "vector").` +
      (hybrid
        ? ` dualstore's default hybrid search (a lexical ranking in PostgreSQL fused with the vector one, no LangChain counterpart): ` +
          `CPU per query mean ${hybrid.cpuMs.toFixed(2)} ms, median ${hybrid.queries?.cpuMedianMs.toFixed(2)} ms, wall median ${hybrid.wallMs.toFixed(1)} ms.`
        : ""),
    `Peak RSS after setup alone: dualstore ${result.baselineRssMb.dualstore} MiB, LangChain ${result.baselineRssMb.langchain} MiB. ` +
      `V8 heap in use after a full GC, after the first index: dualstore ${index.dualstore.heapAfterGcMb} MiB, LangChain ${index.langchain.heapAfterGcMb} MiB.`,
    `Servers' CPU during the first index: ${(index.dualstore.serverCpuMs / 1000).toFixed(2)} s for dualstore's requests, ${(index.langchain.serverCpuMs / 1000).toFixed(2)} s for LangChain's.`,
    `Vectors in each index at the end (per run): dualstore ${result.vectorsAtEnd.dualstore.join(", ")}; LangChain ${result.vectorsAtEnd.langchain.join(", ")}.`,
  ];
  return `### ${c.documents.toLocaleString("en-US")} documents (LangChain splitter ${result.splitter.chunkSize}/${result.splitter.chunkOverlap} characters)\n\n${table(header, rows)}\n\n${notes.map((n) => `- ${n}`).join("\n")}\n`;
}

export function scaleTable(results: ScaleResult[]): string {
  const header = ["store", "documents", "chunks", "create rows", "index", "HNSW build", "re-index (unchanged)", "search median (hybrid)", "vector search median", "lexical search median", "CPU per search (hybrid / vector / lexical)", "peak RSS MiB", "RSS after MiB", "on disk MiB"];
  const rows = results.map((r) => [
    r.store,
    count(r.documents),
    count(r.chunks),
    `${(r.createMs / 1000).toFixed(1)} s`,
    `${(r.indexMs / 1000).toFixed(1)} s`,
    r.hnswBuildMs === undefined ? "—" : `${(r.hnswBuildMs / 1000).toFixed(1)} s`,
    `${(r.reindexMs / 1000).toFixed(2)} s`,
    `${r.searchMedianMs.toFixed(1)} ms`,
    r.vectorSearchMedianMs === undefined ? "—" : `${r.vectorSearchMedianMs.toFixed(1)} ms`,
    r.lexicalSearchMedianMs === undefined ? "—" : `${r.lexicalSearchMedianMs.toFixed(1)} ms`,
    r.searchCpuMedianMs === undefined ? "—" : `${r.searchCpuMedianMs.hybrid.toFixed(1)} / ${r.searchCpuMedianMs.vector.toFixed(1)} / ${r.searchCpuMedianMs.lexical.toFixed(1)} ms`,
    count(r.peakRssMb),
    count(r.rssAfterMb),
    count(r.diskMb),
  ]);
  return table(header, rows, 1);
}
