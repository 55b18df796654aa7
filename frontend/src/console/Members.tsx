/** Who works on the project, in which role; admins can also create accounts here. */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import type { Member, User } from "../types";

const ROLES = ["annotator", "reviewer", "manager", "owner"];

export function Members({ me, projectId }: { me: User; projectId: number }) {
  const [members, setMembers] = useState<Member[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const [who, setWho] = useState("");
  const [role, setRole] = useState("annotator");
  const [newName, setNewName] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [error, setError] = useState("");
  const load = () => {
    api<Member[]>("GET", `/api/projects/${projectId}/members`).then(setMembers).catch((e) => setError(errorText(e)));
    if (me.is_admin) api<User[]>("GET", "/api/users").then(setUsers).catch(() => undefined);
  };
  useEffect(load, [projectId]);

  const add = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      await api("PUT", `/api/projects/${projectId}/members/${Number(who)}`, { role });
      setWho("");
      load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const createUser = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const u = await api<User>("POST", "/api/users", { username: newName, password: newPassword });
      await api("PUT", `/api/projects/${projectId}/members/${u.id}`, { role });
      setNewName("");
      setNewPassword("");
      load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const outsiders = users.filter((u) => !members.some((m) => m.user_id === u.id));
  return (
    <div>
      <table class="data">
        <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {members.map((m) => (
            <tr>
              <td>{m.username}</td>
              <td>
                <select aria-label={`role of ${m.username}`} value={m.role}
                  onChange={(e) => api("PUT", `/api/projects/${projectId}/members/${m.user_id}`, { role: e.currentTarget.value })
                    .then(load).catch((err) => setError(errorText(err)))}>
                  {ROLES.map((r) => <option value={r}>{r}</option>)}
                </select>
              </td>
              <td>
                <button type="button" class="link" onClick={() => api("DELETE", `/api/projects/${projectId}/members/${m.user_id}`)
                  .then(load).catch((err) => setError(errorText(err)))}>remove</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="filters" onSubmit={add}>
        {me.is_admin ? (
          <label>
            Add user
            <select value={who} onChange={(e) => setWho(e.currentTarget.value)} required>
              <option value="">choose…</option>
              {outsiders.map((u) => <option value={String(u.id)}>{u.username}</option>)}
            </select>
          </label>
        ) : (
          <label>
            Add user (id)
            <input type="number" min="1" value={who} onInput={(e) => setWho(e.currentTarget.value)} required />
          </label>
        )}
        <label>
          as
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {ROLES.map((r) => <option value={r}>{r}</option>)}
          </select>
        </label>
        <button type="submit">Add member</button>
      </form>
      {me.is_admin && (
        <form class="filters" onSubmit={createUser}>
          <label>New account<input value={newName} onInput={(e) => setNewName(e.currentTarget.value)} required /></label>
          <label>Password<input type="password" minLength={8} value={newPassword}
            onInput={(e) => setNewPassword(e.currentTarget.value)} required /></label>
          <button type="submit">Create and add</button>
        </form>
      )}
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
