/* C2SP signed notes: verifier keys, the log's checkpoint signature and witnesses'
   cosignature/v1 lines (C2SP tlog-cosignature). A line counts only for a key the caller
   gives: lines by other names or key IDs are ignored, and one that does not verify is no
   cosignature. */
import {b64, concat, enc, hex} from "./bytes.js";
import {sha256} from "./merkle.js";
import {verifyEd25519} from "./ed25519.js";

export const LOG_KEY = 1, COSIGNER_KEY = 4;

/* name+hex(keyID)+base64(type‖pubkey); type 0x01 for the log, 0x04 for a cosigner. */
export async function parseVerifierKey(text, type) {
  const a = text.indexOf("+"), b = text.indexOf("+", a + 1);
  if (a <= 0 || b < 0) throw new Error("not a verifier key: " + text.slice(0, 40));
  const name = text.slice(0, a), hint = text.slice(a + 1, b), blob = b64(text.slice(b + 1));
  if (blob.length !== 33 || blob[0] !== type) throw new Error("not an Ed25519 verifier key of type " + type);
  const vk = {name, hint, type, key: blob.slice(1), text};
  const h = await sha256(concat(enc.encode(name + "\n"), new Uint8Array([type]), vk.key));
  if (hex(h.slice(0, 4)) !== hint) throw new Error("key ID of " + name + " does not match its key");
  return vk;
}

function splitNote(note) {
  const sep = note.lastIndexOf("\n\n");
  const lines = note.slice(sep + 2).split("\n").filter((l) => l);
  return {body: note.slice(0, sep + 1), sigs: lines.map((line) => {
    const rest = line.replace(/^\u2014 /, ""), at = rest.lastIndexOf(" ");
    let blob;
    try { blob = b64(rest.slice(at + 1)); } catch (e) { blob = new Uint8Array(0); }
    return {name: rest.slice(0, at), blob};
  })};
}

function sigBy(note, vk) {
  const s = note.sigs.find((s) => s.name === vk.name && hex(s.blob.slice(0, 4)) === vk.hint);
  return s ? s.blob : null;
}

/* cosignature/v1: keyID(4) ‖ timestamp(u64 big-endian) ‖ Ed25519 signature over
   "cosignature/v1\ntime <t>\n" ‖ the checkpoint body. */
async function cosigned(note, w) {
  const blob = sigBy(note, w);
  if (!blob || blob.length !== 76) return false;
  let t = 0;
  for (let i = 4; i < 12; i++) t = t * 256 + blob[i];
  const msg = enc.encode("cosignature/v1\ntime " + t + "\n" + note.body);
  return (await verifyEd25519(w.key, blob.slice(12), msg)) === true;
}

/* The checkpoint, whether the log's signature verifies (true, false or "unsupported"), the
   names of the given witnesses whose cosignatures verify, and how many signature lines the
   note carries besides the log's own. */
export async function checkCheckpoint(text, vkey, witnesses) {
  const note = splitNote(text), lines = note.body.split("\n");
  const cp = {origin: lines[0], size: Number(lines[1]), root: b64(lines[2]), signature: false, cosigned: []};
  cp.otherLines = note.sigs.filter((s) => s.name !== vkey.name).length;
  if (cp.origin !== vkey.name) return cp;
  const mine = sigBy(note, vkey);
  const [log, ...cosigs] = await Promise.all([
    mine ? verifyEd25519(vkey.key, mine.slice(4), enc.encode(note.body)) : false,
    ...witnesses.map((w) => cosigned(note, w)),
  ]);
  cp.signature = log;
  cp.cosigned = witnesses.filter((w, i) => cosigs[i]).map((w) => w.name);
  return cp;
}
