/**
 * Who may load and unload models. Triton's model control modes are the guide: in `none` (the
 * default) the repository extension lists models but refuses load and unload; `explicit` allows
 * them (with credentials when the server has any). A browser page must not be able to change
 * what a server serves, so a request carrying an `Origin` the CORS setting does not allow is
 * refused too: a cross-origin "simple" request (`Content-Type: text/plain`, or no body) reaches
 * the server without a preflight, and only its `Origin` header gives it away.
 */
import { HttpError } from './http-error';
import type { CorsOptions, ModelControlMode, ServeContext } from './types';

export const MODEL_CONTROL_MODES: readonly ModelControlMode[] = ['none', 'explicit'];

/** The origin allowed to read an answer under `cors`, or undefined. */
export function allowedOrigin(
  cors: boolean | CorsOptions | undefined,
  origin: string | undefined,
): string | undefined {
  if (cors === undefined || cors === false) return undefined;
  const allowed = (cors === true ? undefined : cors.origin) ?? '*';
  if (allowed === '*') return '*';
  if (origin !== undefined && (typeof allowed === 'string' ? [allowed] : allowed).includes(origin))
    return origin;
  return undefined;
}

/**
 * Throws 403 unless the server allows loading and unloading models and, for a request from a
 * browser page (`origin` given), the CORS setting allows that page.
 */
export function checkModelControl(
  ctx: ServeContext,
  action: 'load' | 'unload',
  origin: string | undefined,
): void {
  if ((ctx.options.modelControl ?? 'none') !== 'explicit')
    throw new HttpError(
      403,
      `explicit model ${action} is not allowed: model control is 'none' (start the server with --model-control explicit, or modelControl: 'explicit')`,
    );
  if (origin !== undefined && allowedOrigin(ctx.options.cors, origin) === undefined)
    throw new HttpError(
      403,
      `a page at ${JSON.stringify(origin.slice(0, 100))} may not ${action} models: its origin is not allowed by the CORS setting`,
    );
}
