/**
 * The shell: who is signed in, which page the URL asks for, and the trail back from it. A
 * project page is shown only to roles that may use it (access.tsx); the others see one page
 * that says which role it needs, and a missing project is said once.
 */

import { useEffect, useState } from "preact/hooks";
import { api, retrying, sessionChanged, setUnauthenticatedHandler } from "./api";
import { go, useRoute } from "./router";
import { NeedsRole, PAGES, ProjectMissing, may, useProjectGate } from "./access";
import { Crumbs } from "./Crumbs";
import type { User } from "./types";
import { Login } from "./pages/Login";
import { Projects } from "./pages/Projects";
import { History } from "./pages/History";
import { Tokens } from "./pages/Tokens";
import { Workbench } from "./workbench/Workbench";
import { NewProject } from "./console/NewProject";
import { Manage } from "./console/Manage";
import { ItemDetail } from "./console/ItemDetail";
import { ItemBrowser } from "./console/ItemBrowser";
import { QualityPage } from "./console/QualityPage";
import { LoopPage } from "./console/LoopPage";
import { Audit } from "./console/Audit";
import { Protection } from "./console/Protection";
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
  const [page, id, sub, subId] = route;
  const pid = Number(id);
  const gate = useProjectGate(page === "p" && me ? pid : null); // again once someone signs in
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
    sessionChanged();
    localStorage.setItem(ME_KEY, JSON.stringify(u));
    setMe(u);
  };
  if (me === undefined) return <p class="loading" role="status">{offline ? "The server cannot be reached; trying again…" : "Loading…"}</p>;
  if (me === null) return <Login onLogin={login} />;
  const logout = async () => {
    // The session ends at the click: from here a 401 answers a request of the old session (and is
    // not a reason to sign anyone out), the sign-in form shows at the start, and a page asked for
    // while the server forgets the session is where the next sign-in goes.
    sessionChanged();
    localStorage.removeItem(ME_KEY);
    setMe(null);
    go("/");
    await api("DELETE", "/api/auth/session").catch(() => undefined);
  };
  const need = page === "p" ? PAGES[sub ?? ""]?.need ?? "annotator" : null;
  let body;
  if (need && gate.missing) body = <ProjectMissing pid={pid} />;
  else if (need && gate.project && !may(me, gate.project, need)) body = <NeedsRole me={me} project={gate.project} need={need} />;
  // The workbench starts at once (its first task is the critical path, and it works offline);
  // other pages wait to know they may be shown. If the project cannot be loaded, the page says why.
  else if (need && need !== "annotator" && !gate.project && !gate.failed) body = <main><p>Loading…</p></main>;
  else if (page === "p" && sub === "label") body = <Workbench key={pid} me={me} projectId={pid} />;
  else if (page === "p" && sub === "history") body = <History me={me} projectId={pid} />;
  else if (page === "p" && sub === "manage") body = <Manage me={me} projectId={pid} />;
  else if (page === "p" && sub === "items" && subId) body = <ItemDetail projectId={pid} itemId={Number(subId)} />;
  else if (page === "p" && sub === "items") body = <ItemBrowser key={pid} projectId={pid} />;
  else if (page === "p" && sub === "quality") body = <QualityPage key={pid} projectId={pid} />;
  else if (page === "p" && sub === "loop") body = <LoopPage key={pid} projectId={pid} />;
  else if (page === "p" && sub === "review") body = <Review key={pid} projectId={pid} />;
  else if (page === "p" && sub === "audit") body = <Audit key={pid} projectId={pid} />;
  else if (page === "p" && sub === "protection") body = <Protection key={pid} projectId={pid} />;
  else if (page === "audit") body = <Audit key="all" projectId={null} />;
  else if (page === "new") body = <NewProject />;
  else if (page === "tokens") body = <Tokens />;
  else body = <Projects me={me} />;
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">labelloop</a>
        <Crumbs route={route} me={me} gate={gate} />
        <span class="who" title={me.display_name || me.username}>{me.display_name || me.username}</span>
        {me.is_admin && <a href="#/audit" class="link">Audit log</a>}
        <a href="#/tokens" class="link">API tokens</a>
        <button type="button" class="link" onClick={logout}>Sign out</button>
      </header>
      {body}
    </>
  );
}
