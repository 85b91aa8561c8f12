import { Hono } from "hono";
import type { DashEnv } from "../../context";
import { auditPage } from "./audit";
import { disputesPage, openDispute } from "./disputes";
import { invoiceFile, invoicesPage } from "./invoices";
import { createKey, keysPage, revokeKey, setKeyLimits } from "./keys";
import { createMandate, mandatesPage, revokeMandate } from "./mandates";
import { overviewPage } from "./overview";
import { passesPage, stopRenewal } from "./passes";
import { transfersPage } from "./transfers";

/**
 * The account owner's pages. routes.tsx mounts this behind the owner guard (/owner/*,
 * /invoices/*), so every handler here runs for a signed-in owner whose POSTs passed the CSRF check.
 */
export const ownerPages = new Hono<DashEnv>();

ownerPages.get("/owner", overviewPage);
ownerPages.get("/owner/keys", (c) => keysPage(c));
ownerPages.post("/owner/keys", createKey);
ownerPages.post("/owner/keys/:key_id/limits", setKeyLimits);
ownerPages.post("/owner/keys/:key_id/revoke", revokeKey);
ownerPages.get("/owner/mandates", (c) => mandatesPage(c));
ownerPages.post("/owner/mandates", createMandate);
ownerPages.post("/owner/mandates/:mandate_id/revoke", revokeMandate);
ownerPages.get("/owner/transfers", (c) => transfersPage(c));
ownerPages.get("/owner/disputes", (c) => disputesPage(c));
ownerPages.post("/owner/disputes", openDispute);
ownerPages.get("/owner/passes", (c) => passesPage(c));
ownerPages.post("/owner/passes/:pass_id/stop-renewal", stopRenewal);
ownerPages.get("/owner/audit", auditPage);
ownerPages.get("/owner/invoices", invoicesPage);
ownerPages.get("/invoices/:file", invoiceFile);
