import { createRoute } from "@hono/zod-openapi";
import { db } from "../db/client";
import { CatalogEntry, listCatalog } from "../services/catalog";
import { errors, json, Pagination, router } from "./common";
import { cursorOf, idPosition } from "./cursor";
import { page } from "./models";

/** The catalog is listed in service id order, continuing after a service id. */
export const catalogCursor = cursorOf(idPosition("svc"));

export const catalogRoutes = router().openapi(
  createRoute({
    method: "get",
    path: "/v1/catalog",
    summary: "The services their providers list publicly, with prices and plans (public)",
    request: { query: Pagination },
    responses: { 200: json(page(CatalogEntry, "CatalogPage")), ...errors(400) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const result = await listCatalog(db(c.env), limit, catalogCursor.decode(cursor));
    return c.json({ data: result.data, next_cursor: catalogCursor.encode(result.last) }, 200);
  },
);
