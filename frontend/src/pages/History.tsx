/** The annotator's own recent answers in a project, newest first. */

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { answerText, when } from "../format";
import type { StoredAnswer, User } from "../types";

const PAGE = 1000;
const SHOWN = 50;

/** The caller's answers, oldest first, walked page by page (the API pages by id). */
async function ownAnswers(projectId: number, userId: number): Promise<StoredAnswer[]> {
  let after = 0;
  let out: StoredAnswer[] = [];
  for (;;) {
    const page = await api<StoredAnswer[]>(
      "GET", `/api/projects/${projectId}/answers?user_id=${userId}&after=${after}&limit=${PAGE}`,
    );
    out = [...out, ...page].slice(-SHOWN);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.id;
  }
}

export function History({ me, projectId }: { me: User; projectId: number }) {
  const [answers, setAnswers] = useState<StoredAnswer[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    ownAnswers(projectId, me.id).then((a) => setAnswers(a.reverse())).catch((e) => setError(errorText(e)));
  }, [projectId]);
  return (
    <main class="history">
      <div class="bar">
        <h1>My recent answers</h1>
        <a class="button primary" href={`#/p/${projectId}/label`}>Back to labelling</a>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {answers && answers.length === 0 && <p>No answers yet.</p>}
      {answers && answers.length > 0 && (
        <table class="data">
          <thead>
            <tr><th scope="col">Item</th><th scope="col">Answer</th><th scope="col">When</th></tr>
          </thead>
          <tbody>
            {answers.map((a) => (
              <tr data-answer={a.id}>
                <td>{String(a.item_id)}</td>
                <td>{answerText(a.value)}</td>
                <td>{when(a.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
