import type { TestProject } from "vitest/node";
import { startOrigin } from "../demo/origin.ts";

/** A real HTTP origin on loopback for the workerd tests to forward to. */
export default async function setup(project: TestProject) {
  const origin = await startOrigin(0);
  project.provide("originUrl", origin.url);
  return () => origin.close();
}

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
  }
}
