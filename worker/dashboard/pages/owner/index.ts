import { Hono } from "hono";
import type { DashEnv } from "../../context";
import { overviewPage } from "./overview";

/**
 * The account owner's pages. routes.tsx mounts this behind the owner guard (/owner/*,
 * /invoices/*), so every handler here runs for a signed-in owner.
 */
export const ownerPages = new Hono<DashEnv>();

ownerPages.get("/owner", overviewPage);
