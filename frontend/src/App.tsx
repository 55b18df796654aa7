/** The shell: who is signed in, and which page the URL asks for. */

import { useEffect, useState } from "preact/hooks";
import { api, setUnauthenticatedHandler } from "./api";
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

export function App() {
  const [me, setMe] = useState<User | null | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    setUnauthenticatedHandler(() => setMe(null));
    api<User>("GET", "/api/me").then(setMe).catch(() => setMe(null));
  }, []);
  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null) return <Login onLogin={setMe} />;
  const logout = async () => {
    await api("DELETE", "/api/auth/session").catch(() => undefined);
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
  else if (page === "p" && sub === "items") body = <ItemBrowser projectId={pid} />;
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
