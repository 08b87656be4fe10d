// Compiles only where `express`, `fastify` and `koa` are express 4, fastify 4 and koa 2: proof that
// tsconfig.older-majors.json checks the apps beside it against the older majors' types.
import type { Request } from 'express';
import type { FastifyInstance } from 'fastify';
import type { Context } from 'koa';

/** req.param() was removed in express 5. */
export type ExpressParam = Request['param'];
/** getDefaultRoute() was removed in fastify 5. */
export type FastifyDefaultRoute = FastifyInstance['getDefaultRoute'];
/** koa 3 dropped redirect's second argument (for ctx.back()). */
export const redirectBack = (ctx: Context) => ctx.redirect('back', '/');
