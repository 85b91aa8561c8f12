import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../../env";
import type { Context } from "hono";
import type { DashContext } from "../context";
import { CSRF_FIELD, signInToken } from "../csrf";
import { Layout } from "../layout";
import { page } from "../render";

/** The sign-in form: the key is POSTed (never in a URL) and never echoed back. */
export async function signInPage(c: DashContext, error: string | null, status: ContentfulStatusCode = 200): Promise<Response> {
  const token = await signInToken(c as unknown as Context<AppEnv>);
  return page(
    c,
    <Layout title="Sign in" message={error ? { kind: "error", text: error } : null}>
      <section>
        <form method="post" action="/dashboard/signin" class="stack" autocomplete="off">
          <input type="hidden" name={CSRF_FIELD} value={token} />
          <label for="key">Owner key or provider key</label>
          <input id="key" name="key" type="password" required autocomplete="off" spellcheck={false} placeholder="tg_owner_… or tg_prov_…" />
          <button type="submit">Sign in</button>
        </form>
        <p>
          The key stays on the server: the session cookie holds only a signed session id, which ends when you sign out, after 8 hours, or when the key is
          rotated.
        </p>
        <p>
          New provider? <a href="/dashboard/signup">Sign up</a>.
        </p>
      </section>
    </Layout>,
    status,
  );
}
