export function ItemBrowser(_p: { projectId: number }) {
  return <main><h1>Items</h1></main>;
}
