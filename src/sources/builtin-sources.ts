import { z } from "zod";
import type { Artifact, Message } from "../generated/models.js";
import { parseConfig } from "../internal/validate.js";
import { defineSource, withShape, type Source } from "./source.js";

const roles = ["user", "assistant", "system"] as const;
const messagesOptions = z.strictObject({
  name: z.string().optional(),
  roles: z.array(z.enum(roles)).min(1).optional(),
});

/**
 * Chat messages as a source, so a chat app can recall earlier conversations: each message is
 * indexed under its chat's owner, with `chatId` and `role` to filter on. Default: user and
 * assistant messages (`roles: ["assistant"]` recalls replies only), under the name "messages".
 */
export function messagesSource<const Name extends string = "messages">(
  options: { name?: Name; roles?: ReadonlyArray<(typeof roles)[number]> } = {},
): Source<Message, Name> {
  parseConfig(messagesOptions, options, "messagesSource");
  const included = options.roles ?? ["user", "assistant"];
  const source = defineSource<Message, Name>({
    name: options.name ?? ("messages" as Name),
    table: "Message",
    key: "id",
    text: ["content"],
    metadata: ["chatId", "role"],
  });
  return withShape(source, {
    inDualstoreSchema: true,
    ownerSql: (alias, schema) => `(SELECT c."userId" FROM ${schema}."Chat" c WHERE c.id = ${alias}."chatId")`,
    condition: (alias) => `${alias}.role IN (${included.map((role) => `'${role}'`).join(", ")})`,
    conditionColumns: ["role"],
  });
}

const artifactsOptions = z.strictObject({
  name: z.string().optional(),
  types: z.array(z.string().regex(/^[a-z0-9_-]{1,40}$/)).min(1).optional(),
});

/**
 * Artifacts as a source: title and content indexed under the artifact's owner, with `type`,
 * `language` and `messageId` to filter on. Default: every type, under the name "artifacts".
 */
export function artifactsSource<const Name extends string = "artifacts">(options: { name?: Name; types?: readonly string[] } = {}): Source<Artifact, Name> {
  parseConfig(artifactsOptions, options, "artifactsSource");
  const source = defineSource<Artifact, Name>({
    name: options.name ?? ("artifacts" as Name),
    table: "Artifact",
    key: "id",
    text: ["title", "content"],
    owner: "userId",
    metadata: ["type", "language", "messageId"],
  });
  const types = options.types;
  return withShape(source, {
    inDualstoreSchema: true,
    ...(types ? { condition: (alias: string) => `${alias}.type IN (${types.map((type) => `'${type}'`).join(", ")})`, conditionColumns: ["type"] } : {}),
  });
}
