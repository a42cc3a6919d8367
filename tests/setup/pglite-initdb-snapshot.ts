// Every in-memory PGlite the tests create starts from a snapshot of a freshly initialised data
// directory instead of running initdb again. initdb is most of PGlite's start-up: about 2.8 s of
// CPU against 0.8 s to restore the snapshot, and the suite creates hundreds of databases. The
// snapshot is what initdb itself wrote, taken once per PGlite version and shared by every test
// process, so each database is still a real, empty, independent PGlite: nothing is mocked. A data
// directory on disk that already holds a database opens as usual.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { repoRoot } from "../helpers/paths.js";

const version = (JSON.parse(readFileSync(join(repoRoot, "node_modules/@electric-sql/pglite/package.json"), "utf8")) as { version: string }).version;
const snapshotPath = join(tmpdir(), "dualstore-tests", `pglite-${version}-initdb.tar`);
const create = PGlite.create.bind(PGlite);
let snapshot: Promise<Blob> | undefined;
// PGlite runs initdb through a PGlite.create of its own: while the snapshot is taken, every
// create is PGlite's.
let taking = false;

async function initdbSnapshot(): Promise<Blob> {
  if (!existsSync(snapshotPath)) {
    taking = true;
    const fresh = await create().finally(() => (taking = false));
    const dump = await fresh.dumpDataDir("none");
    await fresh.close();
    mkdirSync(join(tmpdir(), "dualstore-tests"), { recursive: true });
    // Test processes start together: each writes its own file and renames it into place whole.
    const partial = `${snapshotPath}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, snapshotPath);
  }
  return new Blob([readFileSync(snapshotPath)]);
}

PGlite.create = (async (dataDirOrOptions?: string | PGliteOptions, maybeOptions?: PGliteOptions) => {
  // The same reading of the arguments as PGlite's own.
  const options: PGliteOptions = typeof dataDirOrOptions === "string" ? { ...maybeOptions, dataDir: dataDirOrOptions } : (dataDirOrOptions ?? maybeOptions ?? {});
  const { dataDir } = options;
  const initialised = dataDir !== undefined && !dataDir.startsWith("memory://") && existsSync(join(dataDir, "PG_VERSION"));
  if (taking || initialised || options.loadDataDir !== undefined) return create(options);
  snapshot ??= initdbSnapshot();
  return create({ ...options, loadDataDir: await snapshot });
}) as typeof PGlite.create;
