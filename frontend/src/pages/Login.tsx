import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { User } from "../types";

/** An OpenID Connect provider one may sign in with (GET /api/auth/oidc/providers). */
interface SignInProvider {
  name: string;
  label: string;
  start_url: string;
}

/** Why a sign-in at a provider failed: the callback sends the browser back with it in the query.
 * Read once, then dropped from the address bar so a reload does not show it again. */
function providerError(): string {
  const params = new URLSearchParams(location.search);
  const message = params.get("sign_in_error") ?? "";
  if (message) history.replaceState(history.state, "", location.pathname + location.hash);
  return message;
}

export function Login({ onLogin }: { onLogin: (u: User) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(providerError);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<SignInProvider[]>([]);
  useEffect(() => {
    api<SignInProvider[]>("GET", "/api/auth/oidc/providers").then(setProviders, () => setProviders([]));
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await api<{ user: User }>("POST", "/api/auth/session", { username, password });
      onLogin(r.user);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>labelloop</h1>
      <form onSubmit={submit} class="card">
        <h2>Sign in</h2>
        <label>
          Username
          <input name="username" autocomplete="username" required value={username}
            onInput={(e) => setUsername(e.currentTarget.value)} autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required value={password}
            onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>Sign in</button>
        {providers.length > 0 && (
          <div class="buttons sign-in-providers">
            {providers.map((p) => (
              // A navigation, not a fetch: the provider's page takes over, then sends us back.
              <a key={p.name} class="button" href={p.start_url}>Sign in with {p.label}</a>
            ))}
          </div>
        )}
      </form>
    </main>
  );
}
