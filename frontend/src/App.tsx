/** The shell: who is signed in, and which page the URL asks for. */

import { useEffect, useState } from "preact/hooks";
import { api, retrying, setUnauthenticatedHandler } from "./api";
import { go, useRoute } from "./router";
import type { User } from "./types";
import { Login } from "./pages/Login";
import { Projects } from "./pages/Projects";
import { History } from "./pages/History";
import { Workbench } from "./workbench/Workbench";
import { NewProject } from "./console/NewProject";
import { Manage } from "./console/Manage";
import { ItemDetail } from "./console/ItemDetail";
import { ItemBrowser } from "./console/ItemBrowser";
import { QualityPage } from "./console/QualityPage";
import { LoopPage } from "./console/LoopPage";
import { Review } from "./review/Review";

const ME_KEY = "labelloop.me";

function rememberedUser(): User | undefined {
  try {
    return (JSON.parse(localStorage.getItem(ME_KEY) ?? "null") as User | null) ?? undefined;
  } catch {
    return undefined;
  }
}

export function App() {
  const [me, setMe] = useState<User | null | undefined>(undefined);
  const route = useRoute();
  const [offline, setOffline] = useState(false);
  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    // While the server cannot be reached, the last signed-in user carries on (their pending
    // answers wait in the outbox) instead of being sent to a login form that cannot work.
    const timer = setTimeout(() => {
      setOffline(true);
      setMe((m) => (m === undefined ? rememberedUser() : m));
    }, 1500);
    retrying(() => api<User>("GET", "/api/me"))
      .then((u) => {
        localStorage.setItem(ME_KEY, JSON.stringify(u));
        setMe(u);
      })
      .catch(() => setMe(null))
      .finally(() => {
        clearTimeout(timer);
        setOffline(false);
      });
  }, []);
  const login = (u: User) => {
    localStorage.setItem(ME_KEY, JSON.stringify(u));
    setMe(u);
  };
  if (me === undefined) return <p class="loading" role="status">{offline ? "The server cannot be reached; trying again…" : "Loading…"}</p>;
  if (me === null) return <Login onLogin={login} />;
  const logout = async () => {
    await api("DELETE", "/api/auth/session").catch(() => undefined);
    localStorage.removeItem(ME_KEY);
    setMe(null);
    go("/");
  };
  const [page, id, sub, subId] = route;
  const pid = Number(id);
  let body;
  if (page === "p" && sub === "label") body = <Workbench key={pid} me={me} projectId={pid} />;
  else if (page === "p" && sub === "history") body = <History me={me} projectId={pid} />;
  else if (page === "p" && sub === "manage") body = <Manage me={me} projectId={pid} />;
  else if (page === "p" && sub === "items" && subId) body = <ItemDetail projectId={pid} itemId={Number(subId)} />;
  else if (page === "p" && sub === "items") body = <ItemBrowser key={pid} projectId={pid} />;
  else if (page === "p" && sub === "quality") body = <QualityPage key={pid} projectId={pid} />;
  else if (page === "p" && sub === "loop") body = <LoopPage key={pid} projectId={pid} />;
  else if (page === "p" && sub === "review") body = <Review key={pid} projectId={pid} />;
  else if (page === "new") body = <NewProject />;
  else body = <Projects me={me} />;
  return (
    <>
      <nav class="top" aria-label="main">
        <a href="#/" class="brand">labelloop</a>
        <span class="who">{me.display_name || me.username}</span>
        <button type="button" class="link" onClick={logout}>Sign out</button>
      </nav>
      {body}
    </>
  );
}
