/** Your API tokens: make one with chosen scopes and expiry (its secret shown once), list, revoke.
 * Scopes narrow what your roles allow and never widen them (docs/security.md). */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { when } from "../format";

const SCOPES = [
  ["read", "see what your roles show, and export"],
  ["annotate", "label and review (and read)"],
  ["manage", "change projects, import, run the loop (and read)"],
  ["admin", "your account and tokens; for administrators, the instance"],
] as const;

interface TokenInfo {
  id: number;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked: boolean;
  scopes: string[];
}

export function Tokens() {
  const [tokens, setTokens] = useState<TokenInfo[] | null>(null);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const [scopes, setScopes] = useState<string[]>(["read"]);
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  const load = () => api<TokenInfo[]>("GET", "/api/tokens").then(setTokens).catch((e) => setError(errorText(e)));
  useEffect(() => {
    void load();
  }, []);
  const create = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const body = { name, scopes, ...(days.trim() ? { expires_in_days: Number(days) } : {}) };
      const r = await api<{ token: string; info: TokenInfo }>("POST", "/api/tokens", body);
      setSecret({ name: r.info.name, token: r.token });
      setName("");
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = async (t: TokenInfo) => {
    setError("");
    try {
      await api("DELETE", `/api/tokens/${t.id}`);
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const toggle = (scope: string, on: boolean) =>
    setScopes((s) => (on ? [...s, scope] : s.filter((x) => x !== scope)));
  return (
    <main class="tokens">
      <h1>API tokens</h1>
      <form class="card" onSubmit={create} aria-label="New token">
        <h2>New token</h2>
        <label>
          Name
          <input name="name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Expires after (days; empty: never)
          <input name="expires_in_days" type="number" min={1} max={3650} value={days}
            onInput={(e) => setDays(e.currentTarget.value)} />
        </label>
        <fieldset>
          <legend>Scopes</legend>
          {SCOPES.map(([scope, meaning]) => (
            <label key={scope}>
              <input type="checkbox" name="scopes" value={scope} checked={scopes.includes(scope)}
                onChange={(e) => toggle(scope, e.currentTarget.checked)} />
              {scope}: {meaning}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={!name || scopes.length === 0}>Create token</button>
      </form>
      {secret && (
        <p class="card" role="status">
          The token “{secret.name}”, shown this once (only its hash is kept): <code class="secret">{secret.token}</code>
        </p>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="token-list">
        <thead>
          <tr><th>name</th><th>prefix</th><th>scopes</th><th>created</th><th>expires</th><th /></tr>
        </thead>
        <tbody>
          {(tokens ?? []).map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td><code>{t.prefix}…</code></td>
              <td>{t.scopes.join(" ")}</td>
              <td>{when(t.created_at)}</td>
              <td>{t.expires_at ? when(t.expires_at) : "never"}</td>
              <td>{t.revoked ? "revoked" : <button type="button" onClick={() => revoke(t)}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}
