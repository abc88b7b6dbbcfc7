#!/usr/bin/env node
// Builds foodtrace/resolver/static/vendor/noble.js: @noble/ed25519 and @noble/hashes' SHA-2
// (exactly the versions pinned in package.json, unmodified) bundled into one small plain
// script for the 食安码 page, which must verify Ed25519 and SHA-256 where WebCrypto has
// neither (WeChat/Alipay in-app browsers, old Android WebViews, pages on plain HTTP).
//
// It exposes window.ftNoble = {sha256(bytes), verify(sig, msg, pub)} and nothing else.
// Verification is RFC 8032 strict ({zip215: false}), as OpenSSL (the server's cryptography).
//
//   node scripts/build-noble.js          write the bundle and copy the licences
//   node scripts/build-noble.js --check  exit 1 if the committed files differ from a rebuild
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";

const VENDOR = new URL("../foodtrace/resolver/static/vendor/", import.meta.url);
const ENTRY = `
import { verify as edVerify, hashes } from "@noble/ed25519";
import { sha256, sha512 } from "@noble/hashes/sha2";
hashes.sha512 = sha512;
globalThis.ftNoble = {
  sha256: (bytes) => sha256(bytes),
  verify: (sig, msg, pub) => edVerify(sig, msg, pub, { zip215: false }),
};
`;
const pkg = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url)));
const banner =
  `/* ${["@noble/ed25519", "@noble/hashes"].map((n) => `${n} ${pkg(n).version}`).join(", ")}` +
  ` (MIT, see noble-*.LICENSE), bundled by scripts/build-noble.js. Do not edit. */`;

const out = await build({
  stdin: { contents: ENTRY, resolveDir: new URL("..", import.meta.url).pathname, loader: "js" },
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  legalComments: "inline",
  banner: { js: banner },
  write: false,
});
const files = {
  "noble.js": out.outputFiles[0].text,
  "noble-ed25519.LICENSE": readFileSync(new URL("../node_modules/@noble/ed25519/LICENSE", import.meta.url), "utf8"),
  "noble-hashes.LICENSE": readFileSync(new URL("../node_modules/@noble/hashes/LICENSE", import.meta.url), "utf8"),
};
let stale = 0;
for (const [name, text] of Object.entries(files)) {
  const path = new URL(name, VENDOR);
  if (process.argv.includes("--check")) {
    let now = null;
    try { now = readFileSync(path, "utf8"); } catch { /* missing */ }
    if (now !== text) { console.error(`${name} differs from a rebuild of the pinned packages`); stale += 1; }
  } else writeFileSync(path, text);
}
process.exit(stale ? 1 : 0);
