import { beforeAll, expect, it } from "vitest";
import { NotFoundError, ValidationError, type Dualstore, type User } from "../../src/index.js";
import { defaultSettings } from "../../src/repository/settings.js";
import { describeEachDatabase } from "../helpers/db.js";
import { rejectsWith } from "../helpers/errors.js";
import type { PrismaClient } from "../../src/db/prisma.js";

describeEachDatabase("settings", (target) => {
  let ds: Dualstore<PrismaClient>;
  let user: User;
  beforeAll(async () => {
    ds = await target.open();
    user = await ds.users.create({ email: "prefs@example.com" });
  });

  it("returns ADR-002's defaults for a user without settings, without writing a row", async () => {
    expect(await ds.settings.get(user.id)).toEqual({ userId: user.id, ...defaultSettings, persisted: false });
    expect(await ds.prisma.userSettings.count({ where: { userId: user.id } })).toBe(0);
  });

  it("applies partial updates on top of the defaults", async () => {
    const u = await ds.users.create({ email: "partial@example.com" });
    const first = await ds.settings.update(u.id, { temperature: 1.2, ragTopK: 8 });
    expect(first).toMatchObject({ ...defaultSettings, temperature: 1.2, ragTopK: 8, persisted: true });
    const second = await ds.settings.update(u.id, { theme: "dark" });
    expect(second).toMatchObject({ temperature: 1.2, ragTopK: 8, theme: "dark" });
    expect(await ds.settings.get(u.id)).toEqual(second);
  });

  it.each([
    [{ temperature: 2.1 }, ["temperature"]],
    [{ temperature: -0.1 }, ["temperature"]],
    [{ ragTopK: 0 }, ["ragTopK"]],
    [{ ragTopK: 101 }, ["ragTopK"]],
    [{ ragTopK: 2.5 }, ["ragTopK"]],
    [{ ragMinScore: 1.01 }, ["ragMinScore"]],
    [{ maxTokens: 0 }, ["maxTokens"]],
    [{ theme: "neon" }, ["theme"]],
    [{ language: "Spanish" }, ["language"]],
    [{ defaultModel: "" }, ["defaultModel"]],
    [{ ragEnabled: "yes" }, ["ragEnabled"]],
    [{ temperature: 3, ragMinScore: -1, colour: "red" }, ["colour", "ragMinScore", "temperature"]],
  ])("rejects %j naming %j and writes nothing", async (patch, fields) => {
    const error = await rejectsWith(ds.settings.update(user.id, patch as never), ValidationError);
    expect(error.fields.sort()).toEqual(fields);
    expect(await ds.prisma.userSettings.count({ where: { userId: user.id } })).toBe(0);
  });

  it("accepts the boundaries of every range", async () => {
    const u = await ds.users.create({ email: "bounds@example.com" });
    expect(await ds.settings.update(u.id, { temperature: 0, ragTopK: 1, ragMinScore: 0 })).toMatchObject({ temperature: 0, ragTopK: 1, ragMinScore: 0 });
    expect(await ds.settings.update(u.id, { temperature: 2, ragTopK: 100, ragMinScore: 1, language: "pt-BR" })).toMatchObject({ temperature: 2, ragTopK: 100, ragMinScore: 1 });
  });

  it("reports unknown users, and other users through a scope, as NotFoundError", async () => {
    await rejectsWith(ds.settings.get("ghost"), NotFoundError);
    await rejectsWith(ds.settings.update("ghost", { theme: "dark" }), NotFoundError);
    const other = await ds.users.create({ email: "elsewhere@example.com" });
    await ds.settings.update(other.id, { theme: "light" });
    await rejectsWith(ds.as(user.id).settings.get(other.id), NotFoundError);
    await rejectsWith(ds.as(user.id).settings.update(other.id, { theme: "dark" }), NotFoundError);
    expect((await ds.settings.get(other.id)).theme).toBe("light");
  });
});
