export function NewProject() {
  return <main><h1>New project</h1></main>;
}
