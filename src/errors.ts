import { redact } from "./core/redact.js";

/**
 * Every error dualstore throws extends {@link DualstoreError} and carries a stable `code`,
 * so callers branch on `err.code` (or `instanceof`) rather than on message text. Messages
 * name the field, option or entity concerned and never contain a secret.
 */
export type DualstoreErrorCode =
  | "CONFIGURATION"
  | "VALIDATION"
  | "NOT_FOUND"
  | "CONFLICT"
  | "FORBIDDEN"
  | "DATABASE"
  | "CONNECTION_FAILED"
  | "DATABASE_LOCKED"
  | "MIGRATION_CHECKSUM_MISMATCH"
  | "MIGRATION_FAILED"
  | "MIGRATION_PREVIOUSLY_FAILED"
  | "MIGRATION_SCHEMA_NOT_EMPTY"
  | "MIGRATION_LOCK_TIMEOUT"
  | "SCHEMA_MISMATCH"
  | "SOURCE_UNKNOWN"
  | "SOURCE_TABLE_MISSING"
  | "SOURCE_KEY_NOT_UNIQUE"
  | "PROVIDER"
  | "DIMENSION_MISMATCH"
  | "EMBEDDER_MISMATCH"
  | "INDEX_LAYOUT_MISMATCH"
  | "INDEXING_FAILED"
  | "BUSY"
  | "LEASE_LOST"
  | "ABORTED"
  | "CLOSED";

export class DualstoreError extends Error {
  readonly code: DualstoreErrorCode;

  constructor(code: DualstoreErrorCode, message: string, options?: { cause?: unknown }) {
    // The last line of defence: whatever a message was built from, a known secret never leaves in it.
    super(redact(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option is missing, malformed, unknown or contradicts another; the message names it. */
export class ConfigurationError extends DualstoreError {
  /** The dotted path of the offending option (e.g. `database.databse`), when one option is at fault. */
  readonly option: string | undefined;

  constructor(message: string, options?: { cause?: unknown; option?: string }) {
    super("CONFIGURATION", message, options);
    this.option = options?.option;
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `ragTopK` or `messages.2.role`. */
  readonly path: string;
  readonly message: string;
}

/** Input was rejected before anything was written. `issues` lists every offending field. */
export class ValidationError extends DualstoreError {
  readonly issues: readonly ValidationIssue[];

  constructor(what: string, issues: readonly ValidationIssue[]) {
    const detail = issues.map((issue) => `${issue.path || "(input)"}: ${issue.message}`).join("; ");
    super("VALIDATION", `Invalid ${what}: ${detail}`);
    this.issues = issues;
  }

  /** The offending field paths, for assertions and form errors. */
  get fields(): string[] {
    return this.issues.map((issue) => issue.path);
  }
}

/** The entity does not exist, or is not visible to the calling scope (ids do not leak). */
export class NotFoundError extends DualstoreError {
  readonly entity: string;
  readonly id: string;

  constructor(entity: string, id: string) {
    super("NOT_FOUND", `${entity} ${JSON.stringify(id)} was not found`);
    this.entity = entity;
    this.id = id;
  }
}

/** A unique constraint refused the write (e.g. a second user with the same email). */
export class ConflictError extends DualstoreError {
  readonly entity: string;
  readonly fields: readonly string[];

  constructor(entity: string, fields: readonly string[], options?: { cause?: unknown }) {
    super("CONFLICT", `${entity} with the same ${fields.join(", ") || "key"} already exists`, options);
    this.entity = entity;
    this.fields = fields;
  }
}

/** A user scope tried a write it may not make on a row it can see (e.g. editing a public document). */
export class PermissionError extends DualstoreError {
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

/** The database failed in a way the caller cannot fix by changing its input. */
export class DatabaseError extends DualstoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("DATABASE", message, options);
  }
}

/**
 * The database server could not be reached or refused the connection (down, wrong host or port,
 * unknown database or role, bad password). `target` is where dualstore tried, as host:port or
 * socket path, without credentials.
 */
export class ConnectionError extends DualstoreError {
  readonly target: string;

  constructor(target: string, reason: string, options?: { cause?: unknown }) {
    super("CONNECTION_FAILED", `Cannot connect to the database at ${target}: ${reason}`, options);
    this.target = target;
  }
}

/**
 * An on-disk PGlite database is open in another live process that does not share it. PGlite is
 * one process's database: a second process writing the same directory would lose data.
 */
export class DatabaseLockedError extends DualstoreError {
  readonly dataDir: string;
  readonly holderPid: number;

  constructor(dataDir: string, holder: { pid: number; hostname: string }, fix: string) {
    super(
      "DATABASE_LOCKED",
      `The PGlite database in ${dataDir} is open in another process (pid ${holder.pid} on ${holder.hostname}), ` +
        `and PGlite is a one-process database. ${fix}`,
    );
    this.dataDir = dataDir;
    this.holderPid = holder.pid;
  }
}

export type MigrationErrorCode = Extract<DualstoreErrorCode, `MIGRATION_${string}`>;

/** migrate() refused to run or a migration script failed; nothing of that run was kept. */
export class MigrationError extends DualstoreError {
  readonly migration: string | undefined;

  constructor(code: MigrationErrorCode, message: string, options?: { migration?: string; cause?: unknown }) {
    super(code, message, options);
    this.migration = options?.migration;
  }
}

/** Something dualstore needs that the database lacks, with the dualstore migration that makes it. */
export interface SchemaProblem {
  /** What is missing or different, e.g. `column "Document"."syncToken"`. */
  readonly object: string;
  /** What dualstore expects, e.g. `text`, or `btree ("userId", "sourceUrl")` for an index. */
  readonly expected: string;
  /** What the database has instead, when it has something (e.g. a column of another type). */
  readonly found: string | undefined;
  /** The dualstore migration that creates it as expected. */
  readonly migration: string;
}

/**
 * The database's tables are not the ones this version of dualstore works with (an app that
 * manages dualstore's tables itself, `database.managedBy: "app"`, has not migrated them yet).
 * `problems` lists every missing or different table, column, index and enum value.
 */
export class SchemaMismatchError extends DualstoreError {
  readonly problems: readonly SchemaProblem[];
  /** The dualstore version whose schema the database was checked against. */
  readonly expectedVersion: string;

  constructor(where: string, expectedVersion: string, problems: readonly SchemaProblem[], fix: string) {
    const listed = problems
      .slice(0, 20)
      .map((p) =>
        p.found === undefined
          ? `${p.object} (${p.expected}, from migration ${p.migration})`
          : `${p.object} is ${p.found}, expected ${p.expected} (from migration ${p.migration})`,
      )
      .join("; ");
    super(
      "SCHEMA_MISMATCH",
      `${where} lacks what dualstore ${expectedVersion} needs: ${listed}${problems.length > 20 ? `; and ${problems.length - 20} more` : ""}. ${fix}`,
    );
    this.problems = problems;
    this.expectedVersion = expectedVersion;
  }
}

export type SourceErrorCode = "SOURCE_UNKNOWN" | "SOURCE_TABLE_MISSING" | "SOURCE_KEY_NOT_UNIQUE";

/**
 * A source (an app table made searchable) cannot be used as declared. `source` names it.
 * SOURCE_UNKNOWN: no source of that name was declared in the `sources` option.
 * SOURCE_TABLE_MISSING: its table, or a column it names, does not exist.
 * SOURCE_KEY_NOT_UNIQUE: its key column has no unique index (nor primary key) of its own.
 */
export class SourceError extends DualstoreError {
  readonly source: string;

  constructor(code: SourceErrorCode, source: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.source = source;
  }
}

/**
 * A remote service (embedder, vector store) failed. `retryable` says whether the shared retry
 * policy would try again; `status` and `requestId` are copied from the response when there was
 * one. The original error is kept as `cause`, with secrets already removed from its message.
 */
export class ProviderError extends DualstoreError {
  readonly provider: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  /** Server-requested delay before the next attempt (Retry-After), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    provider: string,
    message: string,
    details: {
      status?: number | undefined;
      requestId?: string | undefined;
      retryable: boolean;
      retryAfterMs?: number | undefined;
      cause?: unknown;
    },
  ) {
    super("PROVIDER", `${provider}: ${message}`, { cause: details.cause });
    this.provider = provider;
    this.status = details.status;
    this.requestId = details.requestId;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Vectors of one length met a store or index built for another. */
export class DimensionMismatchError extends DualstoreError {
  readonly expected: number;
  readonly actual: number;

  constructor(what: string, expected: number, actual: number) {
    super("DIMENSION_MISMATCH", `${what}: expected dimension ${expected}, got ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The index was built by another embedder than the one this process is configured with, and
 * this process cannot embed queries for the recorded one: searching would compare vectors of two
 * models and find nothing (or nonsense), syncing would mix them. `recorded` and `configured` are
 * the two embedder ids.
 */
export class EmbedderMismatchError extends DualstoreError {
  readonly recorded: string;
  readonly configured: string;

  constructor(recorded: string, configured: string) {
    super(
      "EMBEDDER_MISMATCH",
      `The vector index was built by embedder ${recorded}; this process is configured with ${configured}. ` +
        `Configure ${recorded} again, or change models without downtime: \`dualstore embeddings migrate --to <provider>\` ` +
        "(ds.embeddings.migrate({ to })).",
    );
    this.recorded = recorded;
    this.configured = configured;
  }
}

/**
 * This process would write vectors where the recorded index does not keep them, or cut them
 * otherwise: its namespacing, chunker or vector store differs from the recorded ones, each listed
 * in `differences`. It refuses to sync and search rather than move or hide the app's vectors.
 */
export class IndexLayoutMismatchError extends DualstoreError {
  readonly differences: readonly string[];

  constructor(differences: readonly string[]) {
    super(
      "INDEX_LAYOUT_MISMATCH",
      `This process's vector index configuration differs from the one recorded with the index (${differences.join("; ")}). ` +
        "Configure it as recorded, or leave those options unset to use the recorded ones.",
    );
    this.differences = differences;
  }
}

/** A document could not be indexed; the document row records the same message. */
export class IndexingError extends DualstoreError {
  readonly documentId: string;

  constructor(documentId: string, message: string, options?: { cause?: unknown }) {
    super("INDEXING_FAILED", `Document ${JSON.stringify(documentId)}: ${message}`, options);
    this.documentId = documentId;
  }
}

/** Another sync run holds the document (its lease) for longer than the caller waited. */
export class BusyError extends DualstoreError {
  readonly documentId: string;

  constructor(documentId: string, message: string) {
    super("BUSY", `Document ${JSON.stringify(documentId)}: ${message}`);
    this.documentId = documentId;
  }
}

/**
 * A sync run lost its lease on documents: it made no progress for a whole lease (a store or
 * embedder request stalled), or another run took them over. The run stopped and aborted its
 * requests; the documents are left to the run that holds them now, or to the job's next attempt.
 */
export class LeaseLostError extends DualstoreError {
  readonly documentIds: readonly string[];

  constructor(documentIds: readonly string[], reason: string) {
    super("LEASE_LOST", `Lost the sync lease of ${documentIds.length === 1 ? `document ${JSON.stringify(documentIds[0])}` : `${documentIds.length} documents`}: ${reason}`);
    this.documentIds = documentIds;
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends DualstoreError {
  constructor(options?: { cause?: unknown }) {
    super("ABORTED", "The operation was aborted", options);
  }
}

/** The Dualstore instance was closed. */
export class ClosedError extends DualstoreError {
  constructor() {
    super("CLOSED", "This dualstore instance is closed");
  }
}
