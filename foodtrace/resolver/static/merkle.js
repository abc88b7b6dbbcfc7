/* SHA-256 (the vendored @noble/hashes where loaded, else WebCrypto) and RFC 9162 Merkle
   inclusion proofs: SHA-256(0x00 || data) is a leaf, SHA-256(0x01 || left || right) a node. */
import {concat} from "./bytes.js";

const LEAF = new Uint8Array([0]), NODE = new Uint8Array([1]);

export function sha256(bytes) {
  const noble = window.ftNoble || null;
  const subtle = (window.crypto && window.crypto.subtle) || null;
  if (noble) return Promise.resolve(noble.sha256(bytes));
  if (subtle) return subtle.digest("SHA-256", bytes).then((d) => new Uint8Array(d));
  return Promise.reject(new Error("no SHA-256 in this browser"));
}

export function leafHash(data) {
  return sha256(concat(LEAF, data));
}

/* RFC 9162 §2.1.3.2, with arithmetic instead of 32-bit bit operations. */
export async function rootFromInclusion(index, size, leaf, proof) {
  if (index >= size) throw new Error("index beyond tree size");
  let fn = index, sn = size - 1, r = leaf;
  const half = () => { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); };
  for (const p of proof) {
    if (sn === 0) throw new Error("proof too long");
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(NODE, p, r));
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) half();
    } else {
      r = await sha256(concat(NODE, r, p));
    }
    half();
  }
  if (sn !== 0) throw new Error("proof too short");
  return r;
}

/* RFC 9162 §2.1.4.2: does the tree of size2 (root2) extend the one of size1 (root1)?
   Resolves true or false; arithmetic instead of bit operations, as above. */
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (size1 < 1 || size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && same(root1, root2);
  if (!proof.length) return false;
  let p2 = size1;
  while (p2 % 2 === 0) p2 /= 2;
  const path = p2 === 1 ? [root1, ...proof] : proof; // size1 a power of two: root1 seeds it
  let fn = size1 - 1, sn = size2 - 1;
  const half = () => { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); };
  while (fn % 2 === 1) half();
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await sha256(concat(NODE, c, fr));
      sr = await sha256(concat(NODE, c, sr));
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) half();
    } else {
      sr = await sha256(concat(NODE, sr, c));
    }
    half();
  }
  return sn === 0 && same(fr, root1) && same(sr, root2);
}
