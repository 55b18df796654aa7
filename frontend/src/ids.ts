/** Idempotency keys: random, made with getRandomValues (randomUUID needs a secure context). */
export function newKey(prefix = "web"): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return prefix + "-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
