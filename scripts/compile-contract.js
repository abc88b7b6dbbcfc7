#!/usr/bin/env node
// Compile contracts/TraceAnchor.sol with the pinned solc-js and write the artifact Python ships
// as package data (foodtrace/ledger/artifacts/TraceAnchor.json), so Python never needs Node.
//
//   node scripts/compile-contract.js           write the artifact
//   node scripts/compile-contract.js --check   exit 1 if the committed artifact is stale
//
// The settings below are the single source of truth; hardhat.config.js imports them so the
// contract tests run exactly the bytecode that is committed.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

import { SOLC_SETTINGS } from "../contracts/settings.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_PATH = "contracts/TraceAnchor.sol";
const CONTRACT = "TraceAnchor";
const ARTIFACT_PATH = "foodtrace/ledger/artifacts/TraceAnchor.json";

function compile() {
  const source = readFileSync(join(ROOT, SOURCE_PATH), "utf8");
  const input = {
    language: "Solidity",
    sources: { [SOURCE_PATH]: { content: source } },
    settings: {
      ...SOLC_SETTINGS,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const problems = (output.errors ?? []).filter((e) => e.severity === "error" || e.severity === "warning");
  if (problems.length) {
    for (const e of problems) console.error(e.formattedMessage ?? e.message);
    // Warnings fail the build too: a committed artifact should compile cleanly.
    process.exit(2);
  }
  const contract = output.contracts[SOURCE_PATH][CONTRACT];
  return {
    contractName: CONTRACT,
    sourcePath: SOURCE_PATH,
    sourceSha256: createHash("sha256").update(source, "utf8").digest("hex"),
    compiler: solc.version(),
    settings: SOLC_SETTINGS,
    abi: contract.abi,
    bytecode: "0x" + contract.evm.bytecode.object,
    deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
  };
}

function main(argv) {
  const text = JSON.stringify(compile(), null, 2) + "\n";
  const target = join(ROOT, ARTIFACT_PATH);
  if (argv.includes("--check")) {
    let committed = "";
    try {
      committed = readFileSync(target, "utf8");
    } catch {
      console.error(`${ARTIFACT_PATH} is missing; run: node scripts/compile-contract.js`);
      process.exit(1);
    }
    if (committed !== text) {
      const was = JSON.parse(committed);
      const now = JSON.parse(text);
      const fields = Object.keys(now).filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]));
      console.error(`${ARTIFACT_PATH} is stale (differs in: ${fields.join(", ") || "formatting"}); ` +
        "run: node scripts/compile-contract.js");
      process.exit(1);
    }
    console.log(`${ARTIFACT_PATH} is up to date (${summary(text)})`);
    return;
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${ARTIFACT_PATH} (${summary(text)})`);
}

function summary(text) {
  const a = JSON.parse(text);
  return `${a.compiler}, ${(a.deployedBytecode.length - 2) / 2} bytes deployed`;
}

main(process.argv.slice(2));
