/** A list of the problems the server named, that says how many it leaves out and shows them on request. */

import { useState } from "preact/hooks";
import { problemText } from "./api";
import type { Problem } from "./types";

export function ProblemList({ problems, shown = 20 }: { problems: Problem[]; shown?: number }) {
  const [all, setAll] = useState(false);
  const visible = all ? problems : problems.slice(0, shown);
  const more = problems.length - visible.length;
  return (
    <ul>
      {visible.map((p) => <li>{problemText(p)}</li>)}
      {more > 0 && (
        <li class="more">
          <button type="button" class="link" onClick={() => setAll(true)}>{`Show ${more} more`}</button>
        </li>
      )}
    </ul>
  );
}
