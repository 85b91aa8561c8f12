/** Vite's `?raw` imports: a file's text (e.g. a README a test holds code to). */
declare module "*?raw" {
  const text: string;
  export default text;
}
