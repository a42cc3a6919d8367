export { createDualstore, type Dualstore, type EmbeddingOperations, type ScopedDualstore, type SyncQueue, type Sources, type SourceSearch } from "./client.js";
export type { DualstoreOptions, SearchSettings } from "./options.js";
export type { DatabaseOptions, PGliteInstance } from "./db/database.js";
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
  ConnectionError,
  DatabaseLockedError,
  MigrationError,
  SchemaMismatchError,
  SourceError,
  ProviderError,
  DimensionMismatchError,
  EmbedderMismatchError,
  IndexLayoutMismatchError,
  IndexingError,
  BusyError,
  LeaseLostError,
  AbortedError,
  ClosedError,
  type DualstoreErrorCode,
  type MigrationErrorCode,
  type SourceErrorCode,
  type ValidationIssue,
  type SchemaProblem,
} from "./errors.js";
export type { DualstorePrismaClient, PrismaModelDelegate } from "./db/dualstore-prisma-client.js";
// dualstore's models as plain types, from prisma/schema.prisma (Prisma's generated types stay inside).
export { IndexStatus } from "./generated/models.js";
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
  JsonValue,
  JsonObject,
} from "./generated/models.js";
export type { JsonInput } from "./repository/fields.js";

// Repositories
export type { Repositories, TransactionOptions } from "./repository/repositories.js";
export type { Page } from "./repository/pagination.js";
export type { CreateUserInput, UpdateUserInput } from "./repository/users.js";
export type {
  CreateDocumentInput,
  UpdateDocumentInput,
  ListDocumentsInput,
  DocumentSummary,
  DocumentSource,
  DocumentWriteOptions,
  DocumentDeleteOptions,
} from "./repository/documents.js";
export type { CreateChatInput, ListChatsInput, AppendMessageInput, ListMessagesInput, ChatWithMessages, MessageRole } from "./repository/chats.js";
export type { CreateArtifactInput, UpdateArtifactInput, ListArtifactsInput, ArtifactType } from "./repository/artifacts.js";
export type { Settings, SettingsPatch } from "./repository/settings.js";
export type { SyncMode } from "./repository/hooks.js";

// Chunking
export type { Chunk, Chunker, TokenCounter } from "./chunking/chunker.js";
export { approximateTokens } from "./chunking/chunker.js";
export { RecursiveChunker, type RecursiveChunkerOptions } from "./chunking/recursive-chunker.js";

// Embedders
export type { Embedder, EmbedCallOptions } from "./embedders/embedder.js";
export type { EmbedderConfig } from "./embedders/create-embedder.js";
export { LocalEmbedder, type LocalEmbedderOptions } from "./embedders/local/local-embedder.js";
export type { OpenAIEmbedderConfig, OpenAIEmbeddingModel } from "./embedders/openai/openai-config.js";
export type { CohereEmbedderConfig, CohereEmbeddingModel } from "./embedders/cohere/cohere-config.js";

// Rerankers
export type { Reranker, RerankCallOptions, RerankResult } from "./rerankers/reranker.js";
export type { RerankerConfig } from "./rerankers/create-reranker.js";
export type { CohereRerankerConfig } from "./rerankers/cohere/cohere-reranker.js";
export { FunctionReranker, type FunctionRerankerOptions, type RerankFunction, type RerankFunctionContext } from "./rerankers/function/function-reranker.js";

// Vector stores
export type {
  VectorStore,
  VectorRecord,
  VectorMatch,
  VectorMetadata,
  MetadataValue,
  VectorStoreInfo,
  VectorStoreLimits,
  VectorStoreCallOptions,
} from "./vector-stores/vector-store.js";
export type { VectorFilter, FilterValue } from "./vector-stores/filter.js";
export type { VectorStoreConfig } from "./vector-stores/create-vector-store.js";
export { MemoryVectorStore } from "./vector-stores/memory/memory-vector-store.js";
export type { PgVectorStoreOptions } from "./vector-stores/pgvector/pgvector-vector-store.js";
export type { PineconeVectorStoreConfig } from "./vector-stores/pinecone/pinecone-config.js";
export type { LanceDbVectorStoreConfig } from "./vector-stores/lancedb/lancedb-config.js";

// Sync and search
export type { SyncOptions } from "./sync/vector-index.js";
export type { IndexOutcome, ContentLoader, Namespacing } from "./sync/indexer.js";
export type { IndexProgress, IndexDocumentsOptions, IndexDocumentsFilter, IndexDocumentsResult } from "./sync/sync-engine.js";
export type { SyncStats } from "./sync/job-queue.js";
export type { JobRetryPolicy, WorkerOptions, DrainOptions, DrainResult } from "./sync/worker.js";
export type { ReconcileOptions, ReconcileReport } from "./sync/reconcile.js";
export type { UsageQuery, UsageRow } from "./sync/usage-ledger.js";
export { createDrainHandler, type DrainHandlerOptions, type DrainReport, type DrainTarget } from "./serverless/drain-handler.js";
export { toNodeListener } from "./serverless/node-listener.js";
export type { SearchOptions, SearchHit, SearchMode, SearchResults, SearchDegradation, DocumentHit, DocumentResults } from "./search/search.js";
export type { ChunkText } from "./search/chunk-query.js";
export type { Fusion } from "./search/fusion.js";
export type { EvaluateOptions, EvaluationQuery, EvaluationReport, RetrievalMetrics } from "./search/evaluate.js";
export type { SearchDocument } from "./search/chunk-query.js";
export type { RerankSettings } from "./search/rerank-step.js";
export type {
  EmbeddingChange,
  EmbeddingMigrationProgress,
  EmbeddingMigrationResult,
  EmbeddingPlan,
  EmbeddingStatus,
  MigrateOptions as EmbeddingMigrateOptions,
} from "./sync/embedding-migration.js";

// Sources: an app's own tables made searchable
export { defineSource, type Source, type SourceDefinition, type SourceRow, type AnySource } from "./sources/source.js";
export { messagesSource, artifactsSource } from "./sources/builtin-sources.js";
export type { SourceInstallOptions, SourceInstallReport, SourceStatus } from "./sources/sources.js";
export type { SourceSearchOptions, SourceHit, SourceHitOf } from "./sources/source-search.js";

// File ingestion (the CLI's ingest command)
export { ingestFiles, type IngestOptions, type IngestResult, type IngestProgress, type IngestIssue } from "./ingest/ingest-files.js";
