export function ItemDetail(_p: { projectId: number; itemId: number }) {
  return <main><h1>Item</h1></main>;
}
