import { z } from "zod";
import { fromPrismaError } from "../db/prisma-errors.js";
import type { UserSettings } from "../db/prisma.js";
import { NotFoundError } from "../errors.js";
import { parseInput } from "../internal/validate.js";
import { id, text } from "./fields.js";
import { writeAsOwner } from "./owners.js";
import type { RepositoryContext } from "./scope.js";

/** A user's preferences: the stored row, or ADR-002's defaults when the user has none. */
export type Settings = Omit<UserSettings, "id" | "createdAt" | "updatedAt"> & {
  /** False when these are the defaults and no row exists yet. */
  readonly persisted: boolean;
};

/** ADR-002's defaults, the same the schema declares. */
export const defaultSettings = {
  defaultModel: "gemini-2.0-flash",
  temperature: 0.7,
  maxTokens: 4096,
  theme: "system",
  language: "es",
  codeTheme: "vs-dark",
  ragEnabled: true,
  ragTopK: 5,
  ragMinScore: 0.7,
  emailNotifications: true,
} as const;

export const themes = ["system", "light", "dark"] as const;

const settingsPatch = z
  .strictObject({
    defaultModel: text({ min: 1, max: 200 }),
    temperature: z.number().min(0).max(2),
    maxTokens: z.number().int().min(1).max(2_000_000),
    theme: z.enum(themes),
    language: text().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language tag such as es or pt-BR"),
    codeTheme: text({ min: 1, max: 100 }),
    ragEnabled: z.boolean(),
    ragTopK: z.number().int().min(1).max(100),
    ragMinScore: z.number().min(0).max(1),
    emailNotifications: z.boolean(),
  })
  .partial();

export type SettingsPatch = z.input<typeof settingsPatch>;

export class SettingsRepository {
  /** @internal Repositories come from createDualstore(). */
  constructor(private readonly ctx: RepositoryContext) {}

  /** The user's settings; the defaults (not written) when the user never saved any. */
  async get(userId: string): Promise<Settings> {
    const key = this.visibleUser(userId);
    const row = await this.ctx.client.userSettings.findUnique({ where: { userId: key } });
    if (row) return toSettings(row);
    // An external owner is any id the app uses: it has the defaults until it saves settings.
    if (this.ctx.owners === "users") {
      const user = await this.ctx.client.user.findUnique({ where: { id: key }, select: { id: true } });
      if (!user) throw new NotFoundError("User", key);
    }
    return { userId: key, ...defaultSettings, persisted: false };
  }

  /** Changes some settings; the rest keep their current (or default) values. */
  async update(userId: string, patch: SettingsPatch): Promise<Settings> {
    const key = this.visibleUser(userId);
    const data = parseInput(settingsPatch, patch, "settings");
    try {
      const row = await writeAsOwner(this.ctx, key, (client) =>
        client.userSettings.upsert({ where: { userId: key }, create: { userId: key, ...data }, update: data }),
      );
      return toSettings(row);
    } catch (error) {
      throw fromPrismaError(error, { entity: "UserSettings", refs: { userId: ["User", key] } });
    }
  }

  private visibleUser(userId: string): string {
    const key = parseInput(id, userId, "user id");
    if (this.ctx.scope && this.ctx.scope.userId !== key) throw new NotFoundError("User", key);
    return key;
  }
}

function toSettings(row: UserSettings): Settings {
  const { id: _id, createdAt: _created, updatedAt: _updated, ...values } = row;
  return { ...values, persisted: true };
}
