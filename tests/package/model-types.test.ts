// The plain model types the package publishes (src/generated/models.ts, written from
// prisma/schema.prisma by scripts/model-types.mjs) must be exactly what Prisma's client reads.
// Checked by the type checker (npm run typecheck), which compiles this file.
import { expectTypeOf, it } from "vitest";
import type * as Prisma from "../../src/generated/prisma/client.js";
import type * as Plain from "../../src/index.js";
import { IndexStatus } from "../../src/index.js";
import { IndexStatus as PrismaIndexStatus } from "../../src/generated/prisma/client.js";

it("publishes each model as exactly the type Prisma reads", () => {
  expectTypeOf<Plain.User>().toEqualTypeOf<Prisma.User>();
  expectTypeOf<Plain.Account>().toEqualTypeOf<Prisma.Account>();
  expectTypeOf<Plain.Session>().toEqualTypeOf<Prisma.Session>();
  expectTypeOf<Plain.Chat>().toEqualTypeOf<Prisma.Chat>();
  expectTypeOf<Plain.Message>().toEqualTypeOf<Prisma.Message>();
  expectTypeOf<Plain.Artifact>().toEqualTypeOf<Prisma.Artifact>();
  expectTypeOf<Plain.UserSettings>().toEqualTypeOf<Prisma.UserSettings>();
  expectTypeOf<Plain.Document>().toEqualTypeOf<Prisma.Document>();
  expectTypeOf<Plain.DocumentChunk>().toEqualTypeOf<Prisma.DocumentChunk>();
  expectTypeOf<Plain.IndexStatus>().toEqualTypeOf<Prisma.IndexStatus>();
  expectTypeOf(IndexStatus).toEqualTypeOf(PrismaIndexStatus);
});

it("accepts dualstore's own generated client as a DualstorePrismaClient", () => {
  expectTypeOf<Prisma.PrismaClient>().toExtend<Plain.DualstorePrismaClient>();
});
