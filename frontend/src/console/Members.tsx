/**
 * Who works on the project, in which role: added by username; admins can also create accounts here.
 * Only owners (and admins) may grant, change or take away the owner role (services/projects.py), so
 * nobody else is offered it.
 */

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
  const [note, setNote] = useState("");
  const load = () => {
    api<Member[]>("GET", `/api/projects/${projectId}/members`).then(setMembers).catch((e) => setError(errorText(e)));
    // Admins see every account, as suggestions for the username field.
    if (me.is_admin) api<User[]>("GET", "/api/users").then(setUsers).catch(() => undefined);
  };
  useEffect(load, [projectId]);

  const addByName = async (username: string) => {
    const m = await api<Member>("POST", `/api/projects/${projectId}/members`, { username, role });
    setNote(`${m.username} is now ${m.role === "annotator" ? "an" : "a"} ${m.role}.`);
    load();
  };
  const add = async (e: Event) => {
    e.preventDefault();
    setError("");
    setNote("");
    try {
      await addByName(who.trim());
      setWho("");
    } catch (err) {
      setError(errorText(err));
    }
  };
  const createUser = async (e: Event) => {
    e.preventDefault();
    setError("");
    setNote("");
    try {
      const u = await api<User>("POST", "/api/users", { username: newName, password: newPassword });
      await addByName(u.username);
      setNewName("");
      setNewPassword("");
    } catch (err) {
      setError(errorText(err));
    }
  };
  const outsiders = users.filter((u) => !members.some((m) => m.user_id === u.id));
  const ownsIt = me.is_admin || members.some((m) => m.user_id === me.id && m.role === "owner");
  const roles = ownsIt ? ROLES : ROLES.filter((r) => r !== "owner");
  const fixed = (m: Member) => m.role === "owner" && !ownsIt;
  return (
    <div>
      <table class="data members">
        <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          {members.map((m) => (
            <tr data-member={m.username}>
              <th scope="row">{m.username}</th>
              <td>
                {fixed(m) ? (
                  <>owner <span class="muted">(only an owner may change this)</span></>
                ) : (
                  <select aria-label={`role of ${m.username}`} value={m.role}
                    onChange={(e) => api("PUT", `/api/projects/${projectId}/members/${m.user_id}`, { role: e.currentTarget.value })
                      .then(load).catch((err) => setError(errorText(err)))}>
                    {roles.map((r) => <option value={r}>{r}</option>)}
                  </select>
                )}
              </td>
              <td>
                {!fixed(m) && (
                  <button type="button" class="link" aria-label={`remove ${m.username}`}
                    onClick={() => api("DELETE", `/api/projects/${projectId}/members/${m.user_id}`)
                      .then(load).catch((err) => setError(errorText(err)))}>remove</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="filters" onSubmit={add} aria-label="add a member">
        <label>
          Username of the new member
          <input name="member" value={who} onInput={(e) => setWho(e.currentTarget.value)} required
            autocomplete="off" spellcheck={false} list={outsiders.length ? "member-suggestions" : undefined} />
        </label>
        {outsiders.length > 0 && (
          <datalist id="member-suggestions">
            {outsiders.map((u) => <option value={u.username} />)}
          </datalist>
        )}
        <label>
          Role of the new member
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {roles.map((r) => <option value={r}>{r}</option>)}
          </select>
        </label>
        <button type="submit">Add member</button>
      </form>
      {me.is_admin && (
        <form class="filters" onSubmit={createUser} aria-label="create an account">
          <label>New account<input value={newName} onInput={(e) => setNewName(e.currentTarget.value)} required /></label>
          <label>Password<input type="password" minLength={8} value={newPassword}
            onInput={(e) => setNewPassword(e.currentTarget.value)} required /></label>
          <button type="submit">Create and add</button>
        </form>
      )}
      <p role="status" class="muted">{note}</p>
      {error && <p class="error" role="alert">{error}</p>}
    </div>
  );
}
