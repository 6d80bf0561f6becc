import { z } from "zod";
import { injectInstructions, injectLibrary, injectSystem, type InjectPosition, type SystemBlock } from "../core/inject";
import type { UpstreamFormat } from "../llm/upstream";
import { TEXT_FIELDS } from "./meter";

/**
 * The three client-facing APIs of the proxy (docs/serving.md, "Surfaces"): what each checks in a
 * request, where the library goes, which field bounds the output, and which upstream format speaks
 * it. Only what is rewritten is checked; every other field reaches the upstream as the client sent it.
 */
export type SurfaceId = "chat" | "responses" | "messages";

type Body = Record<string, unknown> & { model?: string; stream?: boolean | null };

export type Surface = {
  id: SurfaceId;
  /** Path under /v1, also the upstream's path under its base URL. */
  path: string;
  format: UpstreamFormat;
  schema: z.ZodType<Body>;
  /** The body with the library merged in (pure; never mutates `body`). */
  inject: (body: Body, rendered: string, position: InjectPosition) => Body;
  /** Output-token fields the agent's `maxTokens` ceiling applies to; the first is set when none is given. */
  maxTokenFields: readonly string[];
  textFields: RegExp;
};

const chatSchema = z.looseObject({
  model: z.string().min(1).optional(),
  messages: z.array(z.looseObject({ role: z.string() })),
  stream: z.boolean().nullish(),
});

const responsesSchema = z.looseObject({
  model: z.string().min(1).optional(),
  instructions: z.string().nullish(),
  stream: z.boolean().nullish(),
});

const systemBlock = z.looseObject({ type: z.string(), text: z.unknown().optional() });
const messagesSchema = z.looseObject({
  model: z.string().min(1).optional(),
  messages: z.array(z.looseObject({ role: z.string() })),
  system: z.union([z.string(), z.array(systemBlock)]).nullish(),
  stream: z.boolean().nullish(),
});

export const SURFACES: Record<SurfaceId, Surface> = {
  chat: {
    id: "chat",
    path: "/chat/completions",
    format: "openai",
    schema: chatSchema,
    inject: (body, rendered, position) => ({ ...body, messages: injectLibrary(body.messages as { role: string }[], rendered, position) }),
    maxTokenFields: ["max_tokens", "max_completion_tokens"],
    textFields: TEXT_FIELDS.chat,
  },
  responses: {
    id: "responses",
    path: "/responses",
    format: "openai",
    schema: responsesSchema,
    inject: (body, rendered, position) => {
      if (rendered === "") return body;
      return { ...body, instructions: injectInstructions(body.instructions as string | null | undefined, rendered, position) };
    },
    maxTokenFields: ["max_output_tokens"],
    textFields: TEXT_FIELDS.responses,
  },
  messages: {
    id: "messages",
    path: "/messages",
    format: "anthropic",
    schema: messagesSchema,
    inject: (body, rendered, position) => {
      if (rendered === "") return body;
      return { ...body, system: injectSystem(body.system as string | SystemBlock[] | null | undefined, rendered, position) };
    },
    maxTokenFields: ["max_tokens"],
    textFields: TEXT_FIELDS.messages,
  },
};

/** The client-facing paths an upstream format can serve, for the 400 that names them. */
export function surfacesOf(format: UpstreamFormat): string[] {
  return Object.values(SURFACES)
    .filter((s) => s.format === format)
    .map((s) => `/v1${s.path}`);
}

/**
 * The agent's output-token ceiling applied to a request: every given output-token field above it is
 * lowered to it, and with none given the first is set to it. Returns the body unchanged without a ceiling.
 */
export function applyCeiling(body: Body, fields: readonly string[], ceiling: number | null): Body {
  if (ceiling === null) return body;
  const given = fields.filter((f) => typeof body[f] === "number");
  if (given.length === 0) return { ...body, [fields[0] as string]: ceiling };
  const out = { ...body };
  for (const f of given) if ((body[f] as number) > ceiling) out[f] = ceiling;
  return out;
}
