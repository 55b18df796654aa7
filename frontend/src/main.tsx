import { render } from "preact";
import { useState } from "preact/hooks";

function App() {
  const [n, setN] = useState(0);
  return <button onClick={() => setN(n + 1)}>{`<b>${n}</b>`}</button>;
}
render(<App />, document.getElementById("root")!);
