import type { Child } from "hono/jsx";
import { CSRF_FIELD } from "./csrf";
import { NAV } from "./nav";
import type { Session } from "./session";

/**
 * A few lines of CSS: readable tables, stacked forms, and a menu that wraps at phone width.
 * Inline (the CSP allows inline styles only): one request per page, no asset route.
 */
const CSS = `
*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#14213d;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header a{color:#fff}header .brand{font-weight:700;margin-right:1rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem}nav a[aria-current]{text-decoration:none;border-bottom:2px solid #fca311}
header form{margin-left:auto}main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.4rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem;overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e6e8eb;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
form.stack{display:grid;gap:.5rem;max-width:30rem}label{font-weight:600}input,select,button{font:inherit;padding:.35rem .5rem}
button{cursor:pointer;background:#14213d;color:#fff;border:0;border-radius:4px}button.danger{background:#b00020}
form.inline{display:inline}.notice{background:#e7f5e9;border:1px solid #9bd3a4;padding:.6rem 1rem;border-radius:6px}
.error{background:#fdecea;border:1px solid #f3a6a0;padding:.6rem 1rem;border-radius:6px}
.secret{font-family:ui-monospace,monospace;word-break:break-all;background:#fff8e1;padding:.5rem;border:1px dashed #d4a000}
.stat{display:inline-block;margin-right:2rem}.stat b{display:block;font-size:1.3rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
section{position:relative}textarea{font:13px/1.4 ui-monospace,monospace;padding:.35rem .5rem;width:100%}pre{background:#f3f4f6;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
figure{margin:0}figcaption{font-size:.9rem;color:#4a5260}svg{max-width:100%;height:auto}
@media (max-width:600px){body{font-size:14px}header form{margin-left:0}.stat{display:block;margin:0 0 .5rem}}
`;

/** The hidden CSRF field of a session's form. */
export function CsrfField({ session }: { session: Session }) {
  return <input type="hidden" name={CSRF_FIELD} value={session.csrf} />;
}

/** A POST form with the session's CSRF token. */
export function PostForm({
  session,
  action,
  children,
  class: cls,
  label,
}: {
  session: Session;
  action: string;
  children: Child;
  class?: string;
  label?: string;
}) {
  return (
    <form method="post" action={action} class={cls} aria-label={label}>
      <CsrfField session={session} />
      {children}
    </form>
  );
}

export type Message = { kind: "notice" | "error"; text: string } | null;

export function Layout({ title, session, path, message, children }: { title: string; session?: Session; path?: string; message?: Message; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Tollgate`}</title>
        {/* A constant, never user data. */}
        <style dangerouslySetInnerHTML={{ __html: CSS }} />
      </head>
      <body>
        <header>
          <a class="brand" href="/dashboard">
            Tollgate
          </a>
          {session && (
            <>
              <nav aria-label="Dashboard">
                {NAV[session.principal.role].map((item) => (
                  <a href={item.href} aria-current={item.href === path ? "page" : undefined}>
                    {item.label}
                  </a>
                ))}
              </nav>
              <PostForm session={session} action="/dashboard/signout" label="Sign out">
                <button type="submit">Sign out</button>
              </PostForm>
            </>
          )}
        </header>
        <main>
          <h1>{title}</h1>
          {message && (
            <p class={message.kind} role={message.kind === "error" ? "alert" : "status"}>
              {message.text}
            </p>
          )}
          {children}
        </main>
      </body>
    </html>
  );
}
