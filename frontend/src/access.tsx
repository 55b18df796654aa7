/**
 * Which project pages a role may open, and what the shell shows instead of one it may not.
 *
 * The least role of each page mirrors the actions its requests need in services/policy.py (the
 * data browser reads items: reviewer; the console reads the status and the members: manager).
 * The server still decides every request; this only spares people a page of controls whose
 * every request would be refused.
 */

import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "./api";
import type { Project, User } from "./types";

export type RoleName = "annotator" | "reviewer" | "manager" | "owner";
const RANK: Record<RoleName, number> = { annotator: 1, reviewer: 2, manager: 3, owner: 4 };

/** Each project page (the route after `#/p/{id}/`): the least role it needs and its name. */
export const PAGES: Record<string, { need: RoleName; title: string | null }> = {
  label: { need: "annotator", title: "Labelling" },
  history: { need: "annotator", title: "My answers" },
  review: { need: "reviewer", title: "Review" },
  items: { need: "reviewer", title: "Items" },
  manage: { need: "manager", title: null }, // the project's own page
  quality: { need: "manager", title: "Quality" },
  loop: { need: "manager", title: "Learning loop" },
  audit: { need: "manager", title: "Audit log" },
  protection: { need: "manager", title: "Retention and erasure" },
};

/** Whether `me` holds at least `need` in the project (admins hold every role). */
export function may(me: User, project: Pick<Project, "role">, need: RoleName): boolean {
  if (me.is_admin) return true;
  const role = project.role as RoleName | null;
  return role !== null && (RANK[role] ?? 0) >= RANK[need];
}

/** Where "the project" is for `me`: the console for managers, the workbench for the others. */
export function projectHome(me: User, project: Project): string {
  return may(me, project, "manager") ? `#/p/${project.id}/manage` : `#/p/${project.id}/label`;
}

export interface ProjectGate {
  project: Project | null;
  /** The server says there is no such project for this user (not a member, or none). */
  missing: boolean;
  /** The project could not be loaded (missing, or the server could not be reached). */
  failed: boolean;
}

const UNKNOWN: ProjectGate = { project: null, missing: false, failed: false };

/** The project the route is on, loaded once per project id. */
export function useProjectGate(pid: number | null): ProjectGate {
  const [state, setState] = useState<ProjectGate & { pid: number | null }>({ ...UNKNOWN, pid: null });
  useEffect(() => {
    // Forget the last project when the route leaves it or the user signs out, so the next
    // user never sees a page let through by the last one's role.
    if (pid === null) return setState({ ...UNKNOWN, pid: null });
    let live = true;
    setState({ ...UNKNOWN, pid });
    api<Project>("GET", `/api/projects/${pid}`)
      .then((project) => live && setState({ project, missing: false, failed: false, pid }))
      .catch((e: unknown) => {
        // 422: the id in the URL is not a project id at all.
        const missing = e instanceof ApiError && (e.status === 404 || e.status === 422);
        if (live) setState({ project: null, missing, failed: true, pid });
      });
    return () => {
      live = false;
    };
  }, [pid]);
  return state.pid === pid ? state : UNKNOWN;
}

/** Said once, instead of the page and each of its refused requests. */
export function ProjectMissing({ pid }: { pid: number }) {
  return (
    <main class="denied">
      <div role="alert">
        <h1>{`Project ${pid} not found`}</h1>
        <p>It does not exist, or you are not one of its members: ask its owner or a manager to add you.</p>
      </div>
      <p><a class="button" href="#/">Your projects</a></p>
    </main>
  );
}

/** A page `me` may not open in this project: which role it needs, and where to go instead. */
export function NeedsRole({ me, project, need }: { me: User; project: Project; need: RoleName }) {
  return (
    <main class="denied">
      <div role="alert">
        <h1>{`You need the ${need} role to see this`}</h1>
        <p>
          {`Your role in ${project.name} is ${project.role ?? "none"}. `}
          {`Only a project's ${need === "reviewer" ? "reviewers, managers and owners" : "managers and owners"} see this page; `}
          ask a manager of the project if you need it.
        </p>
      </div>
      <p class="buttons">
        {project.role && <a class="button primary" href={`#/p/${project.id}/label`}>Start labelling</a>}
        {may(me, project, "reviewer") && <a class="button" href={`#/p/${project.id}/review`}>Review</a>}
        <a class="button" href="#/">Your projects</a>
      </p>
    </main>
  );
}
