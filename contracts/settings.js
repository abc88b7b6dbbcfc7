// Compiler settings shared by scripts/compile-contract.js (the committed artifact) and
// hardhat.config.js (the contract tests), so both build the same bytecode.
// evmVersion is explicit: the embedded py-evm chain runs PragueVM, and so does anvil.
export const SOLC_VERSION = "0.8.37";

export const SOLC_SETTINGS = {
  evmVersion: "prague",
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
};
