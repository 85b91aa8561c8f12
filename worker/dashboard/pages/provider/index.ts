import { Hono } from "hono";
import type { DashEnv } from "../../context";
import { disputesPage, respondToDispute } from "./disputes";
import { providerOverview } from "./overview";
import { payoutsPage } from "./payouts";
import { refundCharge } from "./refunds";
import { servicePage, updateService } from "./service-page";
import { createService, newServicePage, servicesPage } from "./services";
import { statementFile, statementsPage } from "./statements";

/**
 * A provider's pages. routes.tsx mounts this behind the provider guard (/provider/*), so every
 * handler here runs for a signed-in provider whose POSTs passed the CSRF check.
 */
export const providerPages = new Hono<DashEnv>();

providerPages.get("/provider", (c) => providerOverview(c));
providerPages.get("/provider/services", servicesPage);
providerPages.get("/provider/services/new", (c) => newServicePage(c));
providerPages.post("/provider/services", createService);
providerPages.get("/provider/services/:service_id", (c) => servicePage(c));
providerPages.post("/provider/services/:service_id", updateService);
providerPages.post("/provider/refunds", refundCharge);
providerPages.get("/provider/disputes", (c) => disputesPage(c));
providerPages.post("/provider/disputes/:dispute_id/accept", respondToDispute);
providerPages.post("/provider/disputes/:dispute_id/contest", respondToDispute);
providerPages.get("/provider/payouts", payoutsPage);
providerPages.get("/provider/statements", statementsPage);
providerPages.get("/provider/statements/:file", statementFile);
