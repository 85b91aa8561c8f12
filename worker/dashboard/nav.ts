import type { DashboardPrincipal } from "./session";

/** The menu each role sees; a page is listed under the role that may open it. */
export const NAV: Record<DashboardPrincipal["role"], { href: string; label: string }[]> = {
  owner: [
    { href: "/dashboard/owner", label: "Overview" },
    { href: "/dashboard/owner/keys", label: "Agent keys" },
    { href: "/dashboard/owner/mandates", label: "Mandates" },
    { href: "/dashboard/owner/transfers", label: "Transfers" },
    { href: "/dashboard/owner/passes", label: "Passes" },
    { href: "/dashboard/owner/disputes", label: "Disputes" },
    { href: "/dashboard/owner/audit", label: "Audit trail" },
    { href: "/dashboard/owner/invoices", label: "Invoices" },
  ],
  provider: [
    { href: "/dashboard/provider", label: "Overview" },
    { href: "/dashboard/provider/services", label: "Services" },
    { href: "/dashboard/provider/disputes", label: "Disputes" },
    { href: "/dashboard/provider/payouts", label: "Payouts" },
    { href: "/dashboard/provider/statements", label: "Statements" },
  ],
};

/** Where a role lands after sign-in. */
export const HOME: Record<DashboardPrincipal["role"], string> = { owner: "/dashboard/owner", provider: "/dashboard/provider" };
