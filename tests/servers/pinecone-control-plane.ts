/**
 * The index control plane (api.pinecone.io, API version 2026-07 as the SDK speaks it):
 * list, create, describe, configure and delete serverless dense indexes. Bodies are
 * snake_case. An index model carries `schema.fields._values` (the dense vector field the SDK
 * derives `dimension` and `metric` from) and a `host` pointing back at this server.
 */
import { isRecord, type ServiceReply, type ServiceRequest } from "./fault-server.js";
import { controlError } from "./pinecone-errors.js";
import { METRICS, type IndexConfig, type IndexState, type Metric } from "./pinecone-store.js";

export interface ControlPlaneContext {
  indexes: Map<string, IndexState>;
  /** The data-plane host the server reports for an index. */
  hostFor(name: string): string;
  createIndex(config: IndexConfig): IndexState;
}

const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 45;
const MAX_DIMENSION = 20_000;

export function indexModel(index: IndexState, host: string): Record<string, unknown> {
  const { config } = index;
  return {
    name: config.name,
    host,
    status: { ready: true, state: "Ready" },
    deployment: { deployment_type: "managed", cloud: config.cloud, region: config.region },
    read_capacity: { mode: "OnDemand", status: { state: "Ready" } },
    schema: { fields: { _values: { type: "dense_vector", dimension: config.dimension, metric: config.metric } } },
    deletion_protection: config.deletionProtection,
    ...(config.tags ? { tags: config.tags } : {}),
  };
}

function objectBody(request: ServiceRequest): Record<string, unknown> {
  if (request.bodyParseError !== undefined) controlError(400, `Invalid JSON body: ${request.bodyParseError}`);
  if (!isRecord(request.body)) controlError(400, "The request body must be a JSON object");
  return request.body;
}

export function validateIndexName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) controlError(400, "Index name is required");
  if (name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    controlError(
      400,
      `Name must be at most ${MAX_NAME_LENGTH} characters, consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character`,
    );
  }
  return name;
}

export function validateDenseField(dimension: unknown, metric: unknown): { dimension: number; metric: Metric } {
  if (typeof dimension !== "number" || !Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
    controlError(400, `Dimension must be an integer between 1 and ${MAX_DIMENSION}`);
  }
  if (!METRICS.includes(metric as Metric)) controlError(400, `Metric must be one of ${METRICS.join(", ")}`);
  return { dimension, metric: metric as Metric };
}

function parseTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value) || !Object.values(value).every((tag) => typeof tag === "string")) {
    controlError(400, "tags must be an object of strings");
  }
  return value as Record<string, string>;
}

function parseDeletionProtection(value: unknown): "enabled" | "disabled" | undefined {
  if (value === undefined || value === null) return undefined;
  if (value !== "enabled" && value !== "disabled") controlError(400, "deletion_protection must be 'enabled' or 'disabled'");
  return value;
}

function parseCreate(body: Record<string, unknown>): IndexConfig {
  const name = validateIndexName(body.name);
  const schema = body.schema;
  const fields = isRecord(schema) ? schema.fields : undefined;
  if (!isRecord(fields)) controlError(400, "schema.fields is required");
  const names = Object.keys(fields);
  const dense = fields._values;
  if (names.length !== 1 || !isRecord(dense) || dense.type !== "dense_vector") {
    controlError(
      400,
      `Only dense vector indexes (schema.fields._values of type dense_vector) are supported by the local Pinecone test server; got fields ${names.join(", ")}`,
    );
  }
  const { dimension, metric } = validateDenseField(dense.dimension, dense.metric ?? "cosine");

  let cloud = "aws";
  let region = "us-east-1";
  const deployment = body.deployment;
  if (deployment !== undefined && deployment !== null) {
    if (!isRecord(deployment) || deployment.deployment_type !== "managed") {
      controlError(400, "Only managed (serverless) deployments are supported by the local Pinecone test server");
    }
    if (typeof deployment.cloud !== "string" || typeof deployment.region !== "string") {
      controlError(400, "deployment.cloud and deployment.region are required");
    }
    cloud = deployment.cloud;
    region = deployment.region;
  }
  return {
    name,
    dimension,
    metric,
    cloud,
    region,
    deletionProtection: parseDeletionProtection(body.deletion_protection) ?? "disabled",
    tags: parseTags(body.tags),
  };
}

function existing(context: ControlPlaneContext, encodedName: string): IndexState {
  const name = decodeURIComponent(encodedName);
  const index = context.indexes.get(name);
  if (!index) controlError(404, `Resource ${name} not found`);
  return index;
}

function configure(index: IndexState, body: Record<string, unknown>): void {
  const unsupported = Object.keys(body).filter((key) => key !== "deletion_protection" && key !== "tags");
  if (unsupported.length > 0) {
    controlError(400, `Configuring ${unsupported.join(", ")} is not supported by the local Pinecone test server`);
  }
  const deletionProtection = parseDeletionProtection(body.deletion_protection);
  const tags = parseTags(body.tags);
  index.config = {
    ...index.config,
    deletionProtection: deletionProtection ?? index.config.deletionProtection,
    tags: tags === undefined ? index.config.tags : { ...index.config.tags, ...tags },
  };
}

/** Routes one control-plane request. */
export function handleControlPlane(context: ControlPlaneContext, request: ServiceRequest): ServiceReply {
  const model = (index: IndexState): Record<string, unknown> => indexModel(index, context.hostFor(index.config.name));
  if (request.path === "/indexes") {
    if (request.method === "GET") {
      const indexes = [...context.indexes.values()].sort((a, b) => a.config.name.localeCompare(b.config.name));
      return { status: 200, body: { indexes: indexes.map(model) } };
    }
    if (request.method === "POST") {
      const config = parseCreate(objectBody(request));
      if (context.indexes.has(config.name)) controlError(409, `Resource ${config.name} already exists`);
      return { status: 201, body: model(context.createIndex(config)) };
    }
  }
  const match = /^\/indexes\/([^/]+)$/.exec(request.path);
  if (match?.[1] !== undefined) {
    const index = existing(context, match[1]);
    if (request.method === "GET") return { status: 200, body: model(index) };
    if (request.method === "PATCH") {
      configure(index, objectBody(request));
      return { status: 200, body: model(index) };
    }
    if (request.method === "DELETE") {
      if (index.config.deletionProtection === "enabled") {
        controlError(403, "Deletion protection is enabled for this index. Disable deletion protection before retrying.");
      }
      context.indexes.delete(index.config.name);
      return { status: 202 };
    }
  }
  return controlError(404, `Not found: ${request.method} ${request.path} is not a control-plane route of the local Pinecone test server`);
}
