// node scripts/complete-lockfile.mjs
//
// Adds to package-lock.json the platform-specific optional packages (rollup's, LanceDB's native
// builds for other systems) that `npm install` leaves out when the registry it talks to has no
// metadata for them (a partial mirror). Without their entries `npm ci` refuses the lockfile as
// out of sync; with them it installs, skipping each one whose os/cpu/libc does not match, as it
// would with a lockfile written against the full registry. Run it after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const path = fileURLToPath(new URL("../package-lock.json", import.meta.url));
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

const PLATFORM =
  /-(android|darwin|freebsd|linux|openbsd|openharmony|win32)-(arm64|arm|x64|ia32|loong64|ppc64|riscv64|s390x)(?:-(gnueabihf|musleabihf|gnu|musl|msvc|eabi))?$/;

function platformOf(name) {
  const match = PLATFORM.exec(name);
  if (!match) return undefined;
  const [, os, cpu, abi] = match;
  const libc = abi === "gnu" || abi === "gnueabihf" ? ["glibc"] : abi === "musl" || abi === "musleabihf" ? ["musl"] : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
}

const added = [];
for (const [location, entry] of Object.entries({ ...packages })) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location === "" ? "" : `${location}/`}node_modules/${name}`;
    if (packages[nested] || packages[`node_modules/${name}`]) continue;
    const platform = platformOf(name);
    if (!platform) continue; // not a per-platform build: a real optional dependency npm chose to skip
    packages[`node_modules/${name}`] = { version, ...platform, optional: true };
    added.push(`${name}@${version}`);
  }
}

if (added.length === 0) {
  console.log("package-lock.json already complete");
} else {
  // npm keeps entries it did not write and puts them in its own order on its next write.
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`added ${added.length} entries:\n  ${added.join("\n  ")}`);
}
