/** The projects of the signed-in user, with what their role there lets them open. */

import { useEffect, useState } from "preact/hooks";
import { may } from "../access";
import { api, errorText } from "../api";
import type { Project, User } from "../types";

export function Projects({ me }: { me: User }) {
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api<Project[]>("GET", "/api/projects").then(setProjects).catch((e) => setError(errorText(e)));
  }, []);
  return (
    <main class="projects">
      <div class="bar">
        <h1>Your projects</h1>
        {/* Anyone signed in may start a project and owns it (docs/architecture.md, "Who may do what"). */}
        <a class="button" href="#/new">New project</a>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {projects && projects.length === 0 && <p>You are not a member of any project yet.</p>}
      <ul class="project-list">
        {(projects ?? []).map((p) => (
          <li class="card">
            <h2>{p.name}</h2>
            {p.description && <p>{p.description}</p>}
            <p class="muted">{p.role ? `your role: ${p.role}` : "administrator"}</p>
            <div class="buttons">
              {p.role && <a class="button primary" href={`#/p/${p.id}/label`}>Start labelling</a>}
              {p.role && <a class="button" href={`#/p/${p.id}/history`}>My answers</a>}
              {may(me, p, "reviewer") && <a class="button" href={`#/p/${p.id}/review`}>Review</a>}
              {may(me, p, "manager") && <a class="button" href={`#/p/${p.id}/manage`}>Manage</a>}
            </div>
          </li>
        ))}
      </ul>
    </main>
  );
}
