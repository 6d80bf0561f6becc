/**
 * The simulated model: an OpenAI-compatible chat endpoint that runs offline and deterministically,
 * reacting to experiences in its prompt the way Training-Free GRPO assumes an LLM does. Uses only
 * Web-standard APIs, so it runs inside a Worker and in Node. Always labelled as simulated.
 */
import { sleep } from "../shared/time";
import { DEFAULT_KNOBS, decideFault, knobsFor, latencyFor, type Knobs } from "./faults";
import { SimLedger, scopeOf, type CallRecord, type ScopeStats } from "./ledger";
import { hashHex, rngFromKey } from "./rng";
import { answerRollout } from "./solver";
import { answerFromTool, toolsReply } from "./toolsRollout";
import type { OfferedTool } from "./toolMatch";
import { CODE_TOOL_NAME } from "../tools/specs";
import { isObject, SEED_HEADER, type Dialect } from "./dialect";
import { anthropicDialect } from "./wireAnthropic";
import { responsesDialect } from "./wireResponses";
import { detectStage, garble, JSON_STAGES, stageReply, type Stage } from "./stages";
import {
  ChatRequestSchema,
  completionBody,
  errorResponse,
  jsonResponse,
  messageText,
  sseResponse,
  streamEvents,
  tokenCount,
  validationError,
  type ChatRequest,
  type ChoiceOut,
  type CompletionMeta,
  type ToolCall,
} from "./wire";

export { simDataset, generateProblems, type SimProblem, type SimDatasetName } from "./dataset";
export { PITFALLS, GENERIC_VAGUE, type Pitfall, type PitfallId } from "./pitfalls";
export { FAULT_KINDS, type FaultKind, type Knobs } from "./faults";
export { scopeOf, type CallRecord, type FaultCounts, type ScopeStats } from "./ledger";
export { extractFinalAnswer, sameAnswer } from "./solver";
export { simToolDataset, type SimToolProblem } from "./toolsProblems";

export { SEED_HEADER } from "./dialect";
export const SIM_MODEL_ID = "sim-1";
export const SIM_OWNER = "tfgrpo-simulated";
/** Fixed so that identical requests give byte-identical replies (2025-01-01T00:00:00Z). */
export const SIM_CREATED = 1735689600;

export type SimOptions = Partial<Knobs> & {
  /** Seed for requests that carry none. */
  seed?: number;
  /** Extra model ids to list and accept; `sim-1` is always there. */
  models?: readonly string[];
};

/** Inspection hook: what the model has seen so far (also served as JSON at `GET …/sim/stats` and `GET …/sim/calls`). */
export type SimInspection = {
  /** Requests recorded so far; compare with a `CallRecord`'s `firstSeq`/`lastSeq` to tell before from after. */
  seq: number;
  /** Request counts and injected faults per scope. */
  scopes: ScopeStats[];
  /** Per-call request log, optionally of one scope. */
  calls(scope?: string): CallRecord[];
};

export type SimulatedModel = { fetch(request: Request): Promise<Response>; readonly knobs: Knobs; inspect(): SimInspection };

type Generated = { stage: Stage | null; choices: ChoiceOut[] };

function lastUserText(req: ChatRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i];
    if (m && m.role === "user") return messageText(m);
  }
  return "";
}

/** `call tool <name> {json}` in the last user message → a tool call, when that tool is offered. */
function requestedToolCall(req: ChatRequest, text: string, key: string): ToolCall | null {
  if (!req.tools || req.tools.length === 0) return null;
  const m = /call tool ([A-Za-z0-9_.-]+)(?:\s+with)?\s*(\{[\s\S]*\})?/.exec(text);
  const name = m?.[1];
  if (!name || !req.tools.some((t) => t.function.name === name)) return null;
  let args = "{}";
  if (m[2]) {
    try {
      args = JSON.stringify(JSON.parse(m[2]));
    } catch {
      args = "{}";
    }
  }
  return { id: `call_${hashHex("tool", key).slice(0, 12)}`, name, arguments: args };
}

/** The messages after the last user message: this rollout's tool calls and results so far. */
function afterLastUser(req: ChatRequest): { role: string; content: string }[] {
  let i = req.messages.length - 1;
  while (i >= 0 && req.messages[i]?.role !== "user") i--;
  return req.messages.slice(i + 1).map((m) => ({ role: m.role, content: messageText(m) }));
}

function offers(req: ChatRequest, name: string): boolean {
  return req.tools?.some((t) => t.function.name === name) ?? false;
}

/** The offered tools other than execute_code, as the model reads their definitions. */
function userTools(req: ChatRequest): OfferedTool[] {
  return (req.tools ?? [])
    .filter((t) => t.function.name !== CODE_TOOL_NAME)
    .map((t) => ({ name: t.function.name, description: t.function.description ?? "", parameters: t.function.parameters ?? {} }));
}

function generate(req: ChatRequest, seed: number): Generated {
  const lastUser = lastUserText(req);
  const promptText = req.messages
    .filter((m) => m.role === "system" || m.role === "developer" || m.role === "user")
    .map(messageText)
    .join("\n");
  const messagesKey = hashHex(JSON.stringify(req.messages.map((m) => [m.role, messageText(m)])));
  const temperature = req.temperature ?? 1;
  const stage = detectStage(lastUser) ?? (promptText.includes("### TASK: GRADE RESPONSE") ? "judge" : null);
  const limit = req.max_completion_tokens ?? req.max_tokens ?? null;
  const choices: ChoiceOut[] = [];
  for (let choice = 0; choice < (req.n ?? 1); choice++) {
    const key = `${seed}|${messagesKey}|${temperature}|${choice}`;
    const toolTurn = stage
      ? null
      : toolsReply({
          lastUser,
          promptText,
          after: afterLastUser(req),
          toolOffered: offers(req, CODE_TOOL_NAME),
          offered: userTools(req),
          temperature,
          seed,
          choice,
        });
    if (toolTurn) {
      choices.push(toolTurn);
      continue;
    }
    const toolAnswer = stage ? null : answerFromTool(afterLastUser(req));
    if (toolAnswer && requestedToolCall(req, lastUser, key)) {
      choices.push(toolAnswer);
      continue;
    }
    const tool = stage ? null : requestedToolCall(req, lastUser, key);
    if (tool) {
      choices.push({ content: null, toolCall: tool, finish: "tool_calls" });
      continue;
    }
    let content = stage
      ? stageReply(stage, stage === "judge" ? promptText : lastUser, rngFromKey("stage", key))
      : answerRollout({ lastUser, promptText, temperature, seed, choice, messagesKey });
    let finish: ChoiceOut["finish"] = "stop";
    if (limit !== null && tokenCount(content) > limit) {
      content = content.slice(0, limit * 4);
      finish = "length";
    }
    choices.push({ content, toolCall: null, finish });
  }
  return { stage, choices };
}

/** The stage a request is for (as `generate` decides it), for the request log. */
function stageOf(req: ChatRequest): Stage | null {
  const judged = req.messages.some(
    (m) => (m.role === "system" || m.role === "developer" || m.role === "user") && messageText(m).includes("### TASK: GRADE RESPONSE"),
  );
  return detectStage(lastUserText(req)) ?? (judged ? "judge" : null);
}

export function createSimulatedModel(options: SimOptions = {}): SimulatedModel {
  const knobs: Knobs = { ...DEFAULT_KNOBS, ...options };
  const models = [SIM_MODEL_ID, ...(options.models ?? []).filter((m) => m !== SIM_MODEL_ID)];
  const defaultSeed = options.seed ?? 0;
  // Attempt counters, per-call request log and fault counts, per scope.
  const ledger = new SimLedger();

  /** One completion; `dialect` maps the Responses or Messages API onto the chat pipeline (null: chat completions). */
  async function chat(request: Request, url: URL, dialect: Dialect | null = null): Promise<Response> {
    const bodyText = await request.text();
    let raw: unknown;
    try {
      raw = JSON.parse(bodyText);
    } catch {
      return dialect
        ? dialect.error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        : errorResponse(400, "We could not parse the JSON body of your request.", "invalid_json", null);
    }
    if (dialect) {
      const mapped = dialect.toChat(raw);
      if ("error" in mapped) return mapped.error;
      raw = mapped.chat;
      const headerSeed = Number(request.headers.get(SEED_HEADER) ?? Number.NaN);
      if (Number.isInteger(headerSeed) && isObject(raw) && raw.seed === undefined) raw = { ...raw, seed: headerSeed };
    }
    const parsed = ChatRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const invalid = validationError(parsed.error);
      return dialect
        ? dialect.error(400, ((await invalid.json()) as { error: { message: string } }).error.message, "invalid_request_error")
        : invalid;
    }
    const req = parsed.data;
    const seed = req.seed ?? defaultSeed;
    const k = knobsFor(knobs, url, request.headers);

    const scope = scopeOf(url, request.headers);
    // Keyed by scope too, so that agents (or knob sets) sending the same request at the same time each
    // see their own attempts and their own faults.
    const requestHash = hashHex(scope, url.pathname, bodyText);
    const count = ledger.nextAttempt(scope, requestHash);
    const header = Number(request.headers.get("x-sim-attempt"));
    const attempt = Number.isInteger(header) && header >= 1 ? header : count;
    const stage = stageOf(req);
    const contentKey = hashHex(
      seed,
      JSON.stringify(req.messages),
      req.temperature ?? 1,
      req.n ?? 1,
      req.max_tokens ?? "",
      req.max_completion_tokens ?? "",
    );

    const fault = decideFault(k, seed, requestHash, attempt);
    ledger.record({ scope, knobs: k, callKey: contentKey, stage: stage ?? "rollout", seed, attempt, fault });
    await sleep(latencyFor(k, seed, requestHash, attempt), request.signal);
    if (fault === "429" && dialect) {
      return dialect.error(429, "Rate limit reached for sim-1 (simulated fault).", "rate_limit_error", {
        "retry-after": String(k.retryAfterSeconds),
      });
    }
    if (fault === "500" && dialect) return dialect.error(500, "The simulated server had an error (simulated fault).", "api_error");
    if (fault === "429") {
      return errorResponse(429, "Rate limit reached for sim-1 (simulated fault).", "rate_limit_exceeded", null, "rate_limit_error", {
        "retry-after": String(k.retryAfterSeconds),
      });
    }
    if (fault === "500") return errorResponse(500, "The simulated server had an error (simulated fault).", null, null, "server_error");
    if (fault === "hang") await sleep(k.hangMs, request.signal);

    const gen = generate(req, seed);
    const meta: CompletionMeta = {
      id: `chatcmpl-sim-${contentKey}`,
      created: SIM_CREATED,
      model: models.includes(req.model) ? req.model : SIM_MODEL_ID,
      fingerprint: SIM_OWNER,
    };
    const promptTokens = tokenCount(req.messages.map(messageText).join("\n"));
    const completionTokens = gen.choices.reduce(
      (s, c) => s + tokenCount(c.content ?? "") + (c.toolCall ? tokenCount(c.toolCall.name + c.toolCall.arguments) : 0),
      0,
    );
    const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };

    // A malformed reply to a stage garbles its format (the client's parser rejects it and retries);
    // elsewhere (rollouts, tool calls) the HTTP body itself is broken JSON.
    const garbleContent = fault === "malformed" && gen.stage !== null;
    const choices = garbleContent ? gen.choices.map((c) => ({ ...c, content: garble(gen.stage, c.content ?? "") })) : gen.choices;
    const bodyFault = fault === "malformed" && !garbleContent;

    if (dialect) {
      const first = choices[0] ?? { content: "", toolCall: null, finish: "stop" as const };
      return dialect.reply(meta, first, usage, req.stream === true, fault === "truncate" ? "truncate" : bodyFault ? "malformed" : null);
    }
    if (req.stream) {
      const events = streamEvents(meta, choices, req.stream_options?.include_usage ? usage : null);
      return sseResponse(events, fault === "truncate" ? "truncate" : bodyFault ? "malformed" : null);
    }
    const body = JSON.stringify(completionBody(meta, choices, usage));
    if (fault === "truncate" || bodyFault) {
      return new Response(body.slice(0, Math.floor(body.length / 2)), { status: 200, headers: { "content-type": "application/json" } });
    }
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "");
    // `api=anthropic` (or `openai`): an upstream that speaks only that format, as real providers do.
    const api = url.searchParams.get("api");
    const anthropicPath = path.endsWith("/messages");
    if ((api === "anthropic" && !anthropicPath && request.method === "POST") || (api === "openai" && anthropicPath)) {
      return errorResponse(404, `Unknown path ${url.pathname} (this simulated upstream speaks only the ${api} API).`, "not_found", null);
    }
    if (path.endsWith("/chat/completions")) {
      if (request.method !== "POST") return errorResponse(405, "Use POST for /v1/chat/completions.", "method_not_allowed", null);
      return chat(request, url);
    }
    if (path.endsWith("/responses") || path.endsWith("/messages")) {
      const dialect = path.endsWith("/messages") ? anthropicDialect : responsesDialect;
      if (request.method !== "POST") return dialect.error(405, `Use POST for ${url.pathname}.`, "invalid_request_error");
      return chat(request, url, dialect);
    }
    if (request.method === "GET" && path.endsWith("/models")) {
      return jsonResponse({
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: SIM_CREATED, owned_by: SIM_OWNER })),
      });
    }
    if (request.method === "GET" && path.endsWith("/sim/stats")) return jsonResponse({ seq: ledger.seq, scopes: ledger.stats() });
    if (request.method === "GET" && path.endsWith("/sim/calls")) {
      const scope = url.searchParams.get("scope");
      return jsonResponse({ seq: ledger.seq, data: ledger.callLog(scope ?? undefined) });
    }
    const modelMatch = /\/models\/([^/]+)$/.exec(path);
    if (request.method === "GET" && modelMatch?.[1]) {
      const id = decodeURIComponent(modelMatch[1]);
      if (models.includes(id)) return jsonResponse({ id, object: "model", created: SIM_CREATED, owned_by: SIM_OWNER });
      return errorResponse(404, `The model '${id}' does not exist.`, "model_not_found", "model");
    }
    return errorResponse(404, `Unknown path ${url.pathname}.`, "not_found", null);
  }

  return {
    knobs,
    inspect: () => ({ seq: ledger.seq, scopes: ledger.stats(), calls: (scope?: string) => ledger.callLog(scope) }),
    async fetch(request: Request): Promise<Response> {
      try {
        return await handle(request);
      } catch (err) {
        if (request.signal.aborted)
          return errorResponse(499, "The client closed the request.", "client_closed_request", null, "request_aborted");
        throw err;
      }
    },
  };
}

export { JSON_STAGES, detectStage, type Stage };
