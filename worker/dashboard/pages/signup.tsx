import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { randomToken } from "../../../core/ids";
import type { AppEnv } from "../../env";
import type { DashContext } from "../context";
import { CSRF_FIELD, signInCsrfValid, signInToken } from "../csrf";
import { field } from "../format";
import { Layout } from "../layout";
import { forbiddenPage, page } from "../render";
import { endSession, readSession, startSession } from "../session";
import { openProviderFromDashboard } from "../signup";
import { verifyDashboardKey } from "../verify-key";
import { apiErrorText } from "../api-errors";
import { BLANK_SERVICE, NewServiceForm } from "./provider/services";

const asApp = (c: DashContext) => c as unknown as Context<AppEnv>;
const ATTEMPT = /^[0-9a-z]{32}$/;

/**
 * The public sign-up form (before sign-in), protected like the sign-in form by its double-submit
 * token. `attempt` is the sign-up's idempotency key: a form sent twice opens one provider.
 */
export async function signUpPage(
  c: DashContext,
  error: string | null,
  status: ContentfulStatusCode = 200,
  typed: { name: string; email: string } = { name: "", email: "" },
): Promise<Response> {
  const token = await signInToken(asApp(c));
  return page(
    c,
    <Layout title="Sign up as a provider" message={error ? { kind: "error", text: error } : null}>
      <section>
        <form method="post" action="/dashboard/signup" class="stack" aria-label="Sign up">
          <input type="hidden" name={CSRF_FIELD} value={token} />
          <input type="hidden" name="attempt" value={randomToken(32)} />
          <label for="signup-name">Your company or name</label>
          <input id="signup-name" name="name" required maxlength={200} autocomplete="organization" value={typed.name} />
          <label for="signup-email">Email</label>
          <input id="signup-email" name="email" type="email" required maxlength={254} autocomplete="email" value={typed.email} />
          <button type="submit">Sign up</button>
        </form>
        <p>
          You get a provider key, shown once, and you are signed in. Already have a key? <a href="/dashboard/signin">Sign in</a>.
        </p>
      </section>
    </Layout>,
    status,
  );
}

/** Opens the provider, shows its key once, signs it in and puts the "create a service" form right below. */
export async function signUp(c: DashContext): Promise<Response> {
  if (!(await signInCsrfValid(asApp(c))))
    return forbiddenPage(c, "This form has expired or did not come from this site. Reload the sign-up page and try again.");
  const body = await c.req.parseBody();
  const typed = { name: field(body, "name"), email: field(body, "email") };
  const attempt = field(body, "attempt");
  const opened = await openProviderFromDashboard(asApp(c), typed, ATTEMPT.test(attempt) ? attempt : randomToken(32));
  if (!opened.ok) {
    if (opened.unavailable) return signUpPage(c, "Sign-up is not available on this gateway: ask its operator for a provider key.", 404, typed);
    const status = opened.status >= 400 && opened.status <= 599 ? (opened.status as ContentfulStatusCode) : 502;
    return signUpPage(c, apiErrorText({ ok: false, status: opened.status, body: opened.body, text: "", contentType: "" }), status, typed);
  }
  const check = await verifyDashboardKey(c.env, opened.apiKey);
  if (!check.ok) return signUpPage(c, "The new key could not be verified; sign in with it instead.", 500, typed);
  const previous = await readSession(asApp(c));
  if (previous) await endSession(asApp(c), previous, false); // the new cookie replaces it
  const session = await startSession(asApp(c), check.principal, check.keyHash);
  return page(
    c,
    <Layout title="Create a service" session={session} path="/dashboard/provider/services">
      <section aria-labelledby="key-h">
        <h2 id="key-h">Your provider key</h2>
        <p>
          This is the only time it is shown: copy it to your secrets store now. It signs you in here and authenticates your calls to the API. You are signed in.
        </p>
        <p class="secret" data-testid="new-key">
          {opened.apiKey}
        </p>
      </section>
      <NewServiceForm session={session} fields={BLANK_SERVICE} errors={{}} />
    </Layout>,
    201,
  );
}
