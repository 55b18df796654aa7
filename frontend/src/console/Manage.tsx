import type { User } from "../types";
export function Manage(_p: { me: User; projectId: number }) {
  return <main><h1>Manage</h1></main>;
}
