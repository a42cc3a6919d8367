export { createDualstore, type Dualstore } from "./client.js";
export type { DualstoreOptions } from "./options.js";
export type { DatabaseOptions } from "./db/database.js";
export type { QueryEvent, DatabaseDriverName } from "./db/driver.js";
export type { NeonSettings } from "./db/drivers/neon.js";
export type { MigrateResult } from "./db/migrate.js";
export type { MigrationSource } from "./db/migrations.js";
export type { HealthReport, ComponentHealth, HealthStatus } from "./core/health.js";
export { consoleLogger, silentLogger, type Logger, type LogLevel, type LogFields } from "./core/logger.js";
export type { RetryPolicy } from "./core/retry.js";
export {
  DualstoreError,
  ConfigurationError,
  ValidationError,
  NotFoundError,
  ConflictError,
  PermissionError,
  DatabaseError,
  MigrationError,
  ProviderError,
  DimensionMismatchError,
  IndexingError,
  AbortedError,
  ClosedError,
  type DualstoreErrorCode,
  type MigrationErrorCode,
  type ValidationIssue,
} from "./errors.js";
export { PrismaClient, Prisma, IndexStatus } from "./db/prisma.js";
export type {
  User,
  Account,
  Session,
  Chat,
  Message,
  Artifact,
  UserSettings,
  Document,
  DocumentChunk,
} from "./db/prisma.js";
