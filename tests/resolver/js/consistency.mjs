// Runs the page's verifyConsistency (merkle.js) on cases from the Python core.
// argv: the module's path, a JSON file of {s1, s2, proof, r1, r2, ok}; prints mismatches.
import {readFileSync} from "node:fs";
import {webcrypto} from "node:crypto";

globalThis.window = {crypto: webcrypto};
const {verifyConsistency} = await import(process.argv[2]);
const b = (s) => Uint8Array.from(Buffer.from(s, "base64"));
const cases = JSON.parse(readFileSync(process.argv[3], "utf-8"));
let wrong = 0;
for (const c of cases) {
  const got = await verifyConsistency(c.s1, c.s2, c.proof.map(b), b(c.r1), b(c.r2));
  if (got !== c.ok) { wrong++; console.log(`wrong: ${c.s1} -> ${c.s2}: expected ${c.ok}, got ${got}`); }
}
console.log(`checked ${cases.length}, wrong ${wrong}`);
process.exit(wrong ? 1 : 0);
