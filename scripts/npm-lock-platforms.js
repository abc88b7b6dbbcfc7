#!/usr/bin/env node
// Completes package-lock.json with the platform packages this machine's npm registry lacks.
//
// Native tools (Hardhat's EDR, anvil) ship one optional package per platform. The registry
// reachable here serves only some of them (linux x64, ...); npm then leaves the others out of
// the lock, and `npm ci` refuses that lock ("Missing: ...@ from lock file"). Listing them,
// marked optional with their os/cpu, makes the lock complete: `npm ci` on Linux x64 skips
// them without fetching anything, and a machine on another platform would fetch its own.
//
// Run after every `npm install` that changes dependencies:
//   npm install && node scripts/npm-lock-platforms.js
import { readFileSync, writeFileSync } from "node:fs";

const LOCK = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, "utf8"));
const packages = lock.packages;

function platformOf(name) {
  const tail = name.split("/").pop();
  const os = ["darwin", "linux", "win32"].find((o) => tail.includes(`-${o}-`));
  const cpu = tail.includes("-arm64") ? "arm64" : /-(x64|amd64)/.test(tail) ? "x64" : undefined;
  const libc = tail.endsWith("-musl") ? "musl" : tail.endsWith("-gnu") ? "glibc" : undefined;
  return os && cpu ? { os, cpu, libc } : undefined;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const where = `node_modules/${name}`;
    const platform = platformOf(name);
    if (packages[where] || packages[`${path}/${where}`] || !platform) continue;
    packages[where] = {
      version,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      os: [platform.os],
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
    };
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(LOCK, JSON.stringify(lock, null, 2) + "\n");
console.log(`package-lock.json: added ${added} platform package entries`);
