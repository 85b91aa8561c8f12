import type { TestProject } from "vitest/node";
import { startMcpOrigin } from "../demo/mcp-origin.ts";
import { startOrigin } from "../demo/origin.ts";

/** A real HTTP origin on loopback for the workerd tests to forward to. */
export default async function setup(project: TestProject) {
  const origin = await startOrigin(0);
  project.provide("originUrl", origin.url);
  const mcp = await startMcpOrigin(0);
  project.provide("mcpOriginUrl", mcp.url);
  return async () => {
    await origin.close();
    await mcp.close();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    originUrl: string;
    mcpOriginUrl: string;
  }
}
