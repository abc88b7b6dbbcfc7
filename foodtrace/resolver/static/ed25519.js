/* Ed25519 signatures: WebCrypto where the browser has it, else the vendored @noble/ed25519
   (vendor/noble.js, loaded as window.ftNoble), so in-app browsers without WebCrypto Ed25519
   verify too. `engines` records which one was used (the page's data-ed25519). */
export const engines = {};

function nobleVerify(pub, sig, msg) {
  const noble = window.ftNoble || null;
  if (!noble) return "unsupported";
  engines.noble = true;
  try { return noble.verify(sig, msg, pub) === true; } catch (e) { return false; }
}

/* true, false, or "unsupported" when this browser has no way to check. */
export async function verifyEd25519(pub, sig, msg) {
  const subtle = (window.crypto && window.crypto.subtle) || null;
  if (!subtle || !subtle.importKey) return nobleVerify(pub, sig, msg);
  let key;
  try {
    key = await subtle.importKey("raw", pub, {name: "Ed25519"}, false, ["verify"]);
  } catch (e) {
    return nobleVerify(pub, sig, msg);
  }
  engines.webcrypto = true;
  return subtle.verify({name: "Ed25519"}, key, sig, msg);
}
