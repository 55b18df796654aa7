/** The trail in the header: Projects › the project › this page, each step but the last a link back. */

import { PAGES, type ProjectGate, projectHome } from "./access";
import type { User } from "./types";

interface Crumb {
  text: string;
  href?: string;
}

function trail(route: string[], me: User, gate: ProjectGate): Crumb[] {
  const [page, id, sub, subId] = route;
  const crumbs: Crumb[] = [{ text: "Projects", href: "#/" }];
  if (page === "new") crumbs.push({ text: "New project" });
  if (page === "audit") crumbs.push({ text: "Audit log" });
  if (page !== "p") return crumbs;
  if (gate.project) crumbs.push({ text: gate.project.name, href: projectHome(me, gate.project) });
  if (sub === "items" && subId) crumbs.push({ text: "Items", href: `#/p/${id}/items` }, { text: "Item" });
  else if (sub && PAGES[sub]?.title) crumbs.push({ text: PAGES[sub].title });
  return crumbs;
}

export function Crumbs({ route, me, gate }: { route: string[]; me: User; gate: ProjectGate }) {
  const crumbs = trail(route, me, gate);
  const here = `#/${route.join("/")}`;
  return (
    <nav class="crumbs" aria-label="breadcrumb">
      <ol>
        {crumbs.map((c, i) => {
          const last = i === crumbs.length - 1;
          // A step that leads where the user already is (an annotator's project is the
          // workbench) is shown as text.
          const link = !last && c.href !== undefined && c.href !== here;
          return (
            <li title={c.text} aria-current={last ? "page" : undefined}>
              {link ? <a href={c.href}>{c.text}</a> : c.text}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
