import type { GateFigures } from "../core/gateDecision";
import type { VerifierSpec } from "../verifiers";
import type { PartialHyperparams } from "../core/hyperparams";
import type { Provenance } from "../core/library";
import type { ItemStats } from "../core/credit";
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { CaptureConfig, GateConfig, ScheduleConfig } from "../core/policies";
import type { EvaluationFigures } from "../core/evaluationFigures";
import type { CanaryFigures } from "../core/canaryDecision";
import type { CanaryRules } from "../core/canarySpec";
import type { TextRef } from "./texts";

/**
 * A text column that may live in R2 (src/db/texts.ts, docs/architecture.md §11): the D1 column keeps it
 * inline when small; above TEXT_INLINE_MAX_BYTES it is null (or '' where NOT NULL) and `<name>_ref`
 * holds the object's key, size and SHA-256. Read both through readText, never the inline column alone.
 */
const textRef = (name: string) => text(`${name}_ref`, { mode: "json" }).$type<TextRef>();

// Timestamps are ISO-8601 strings written by the application, so they read the same in D1 and JSON.
const createdAt = () => text("created_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);

/** What a user trains and serves: an upstream model, a prompt, a verifier and training defaults. */
export const agents = sqliteTable("agents", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  upstreamBaseUrl: text("upstream_base_url").notNull(),
  upstreamModel: text("upstream_model").notNull(),
  /** AES-GCM ciphertext of the upstream key (base64 of iv||ciphertext); never returned. */
  upstreamKeyCipher: text("upstream_key_cipher"),
  /** Alternative to a stored key: the name of a Worker secret holding it. */
  upstreamKeySecret: text("upstream_key_secret"),
  /** Wire format the upstream speaks: OpenAI (chat completions, responses) or Anthropic (messages). */
  upstreamFormat: text("upstream_format", { enum: ["openai", "anthropic"] })
    .notNull()
    .default("openai"),
  /** Ceiling on a proxied request's output tokens (set when absent, lowered when above); null: none. */
  maxTokens: integer("max_tokens"),
  allowedModels: text("allowed_models", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
  systemPrompt: text("system_prompt").notNull().default(""),
  objective: text("objective").notNull().default(""),
  verifier: text("verifier", { mode: "json" }).$type<VerifierSpec>().notNull(),
  trainingDefaults: text("training_defaults", { mode: "json" }).$type<PartialHyperparams>().notNull().default(sql`'{}'`),
  injectPosition: text("inject_position", { enum: ["before", "after"] })
    .notNull()
    .default("after"),
  /** Tool specs (src/tools/specs.ts) the agent's rollouts may call; empty: plain chat rollouts. */
  tools: text("tools", { mode: "json" }).$type<unknown[]>().notNull().default(sql`'[]'`),
  /** Model replies per tool-using rollout before it ends as it stands. */
  maxTurns: integer("max_turns").notNull().default(20),
  allowVersionPin: integer("allow_version_pin", { mode: "boolean" }).notNull().default(false),
  /** The library version served by the chat endpoint; null serves no library. */
  activeVersion: integer("active_version"),
  /** Gated promotion rule for finished runs; null: runs never promote by themselves. */
  gate: text("gate", { mode: "json" }).$type<GateConfig>(),
  /** Capture of proxied exchanges for feedback (off by default). */
  capture: text("capture", { mode: "json" }).$type<CaptureConfig>().notNull().default(sql`'{"enabled":false,"retentionDays":30}'`),
  /** Scheduled retraining; null: none. */
  schedule: text("schedule", { mode: "json" }).$type<ScheduleConfig>(),
  createdAt: createdAt(),
  updatedAt: text("updated_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
});

/** Proxy keys: only a SHA-256 hash is stored; the key itself is shown once. */
export const proxyKeys = sqliteTable(
  "proxy_keys",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    prefix: text("prefix").notNull(),
    hash: text("hash").notNull().unique(),
    name: text("name"),
    createdAt: createdAt(),
    lastUsedAt: text("last_used_at"),
    /** After this instant the key is refused (401); null: never expires. */
    expiresAt: text("expires_at"),
    /** Requests per minute, one of the Rate Limiting binding tiers (docs/serving.md); null: unlimited. */
    requestsPerMinute: integer("requests_per_minute"),
    /** Prompt + completion tokens per UTC day, from the usage log; null: unlimited. */
    tokensPerDay: integer("tokens_per_day"),
  },
  (t) => [index("proxy_keys_agent").on(t.agentId)],
);

export const datasets = sqliteTable("datasets", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  source: text("source", { enum: ["upload", "builtin", "feedback"] }).notNull(),
  description: text("description").notNull().default(""),
  attribution: text("attribution"),
  sampleCount: integer("sample_count").notNull().default(0),
  /**
   * 'loading' while an upload is being written (invisible to every read path), 'ready' once all its
   * samples are stored; a failed upload is deleted, never left half-written.
   */
  state: text("state", { enum: ["loading", "ready"] })
    .notNull()
    .default("ready"),
  createdAt: createdAt(),
});

/** One labelled example; `idx` is its position in the upload, `sampleId` the user's id (or a generated one). */
export const samples = sqliteTable(
  "samples",
  {
    datasetId: text("dataset_id")
      .notNull()
      .references(() => datasets.id, { onDelete: "cascade" }),
    idx: integer("idx").notNull(),
    sampleId: text("sample_id").notNull(),
    question: text("question").notNull(),
    answer: text("answer").notNull(),
    extras: text("extras", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.datasetId, t.idx] }), uniqueIndex("samples_dataset_sample").on(t.datasetId, t.sampleId)],
);

/** An immutable library version of an agent. Version 0 is never stored: it is the empty library. */
export const libraryVersions = sqliteTable(
  "library_versions",
  {
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    parentVersion: integer("parent_version"),
    runId: text("run_id"),
    /** Deterministic key of what made it (e.g. run/epoch/batch), so a retried step finds its version. */
    originKey: text("origin_key").notNull(),
    itemCount: integer("item_count").notNull(),
    note: text("note").notNull().default(""),
    /** How it was made: by a training run, by hand (an admin's edit) or from an imported file (docs/ownership.md). */
    source: text("source", { enum: ["learned", "manual", "imported"] })
      .notNull()
      .default("learned"),
    /** Who made a manual or imported version (as they named themselves); null for learned ones. */
    author: text("author"),
    /** The upstream model the library was learned with (docs/ownership.md); null for versions made before it was recorded. */
    model: text("model"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.version] }), uniqueIndex("library_versions_origin").on(t.agentId, t.originKey)],
);

/** Items of a version; `itemId` (E1, E2, …) is stable across versions of one agent. */
export const libraryItems = sqliteTable(
  "library_items",
  {
    agentId: text("agent_id").notNull(),
    version: integer("version").notNull(),
    position: integer("position").notNull(),
    itemId: text("item_id").notNull(),
    name: text("name").notNull(),
    text: text("text").notNull(),
    provenance: text("provenance", { mode: "json" }).$type<Provenance[]>().notNull(),
    /** Credit counters by stable id (src/core/credit.ts), carried from version to version. */
    stats: text("stats", { mode: "json" }).$type<ItemStats>(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.version, t.itemId] })],
);

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    datasetId: text("dataset_id")
      .notNull()
      .references(() => datasets.id),
    kind: text("kind", { enum: ["manual", "scheduled"] })
      .notNull()
      .default("manual"),
    params: text("params", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ["queued", "running", "completed", "failed", "cancelled"] }).notNull(),
    reason: text("reason"),
    fromVersion: integer("from_version"),
    latestVersion: integer("latest_version"),
    progress: text("progress", { mode: "json" }).$type<Record<string, unknown>>().notNull().default(sql`'{}'`),
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  },
  (t) => [
    index("runs_agent").on(t.agentId),
    index("runs_dataset_status").on(t.datasetId, t.status),
    // One active run per agent: two would race on version numbers and item ids (issue 16).
    uniqueIndex("runs_one_active_per_agent").on(t.agentId).where(sql`status in ('queued', 'running')`),
  ],
);

/** One rollout; the unique key makes a retried step reuse, never duplicate, a paid completion. */
export const rollouts = sqliteTable(
  "rollouts",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    epoch: integer("epoch").notNull(),
    batch: integer("batch").notNull(),
    sampleIdx: integer("sample_idx").notNull(),
    rolloutIdx: integer("rollout_idx").notNull(),
    promptVersion: integer("prompt_version").notNull(),
    /** '' when the response is in R2 (responseRef). */
    responseInline: text("response").notNull(),
    responseRef: textRef("response"),
    reward: real("reward").notNull(),
    critiqueInline: text("critique"),
    critiqueRef: textRef("critique"),
    summaryInline: text("summary"),
    summaryRef: textRef("summary"),
    /** The trajectory of a tool-using rollout (OpenAI messages, tool outputs capped); null for plain rollouts. */
    messagesInline: text("messages", { mode: "json" }).$type<Record<string, unknown>[]>(),
    /** The trajectory's JSON text in R2. */
    messagesRef: textRef("messages"),
    toolCalls: integer("tool_calls").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.epoch, t.sampleIdx, t.rolloutIdx] }), index("rollouts_batch").on(t.runId, t.epoch, t.batch)],
);

/** Outcome of one rollout group: kept (with its experiences and proposed operations), skipped or dropped. */
export const groups = sqliteTable(
  "groups",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    epoch: integer("epoch").notNull(),
    batch: integer("batch").notNull(),
    sampleIdx: integer("sample_idx").notNull(),
    status: text("status", { enum: ["kept", "skipped", "dropped"] }).notNull(),
    meanReward: real("mean_reward").notNull(),
    passed: integer("passed", { mode: "boolean" }).notNull(),
    advantageInline: text("advantage"),
    advantageRef: textRef("advantage"),
    experiences: text("experiences", { mode: "json" }).$type<unknown[]>(),
    operations: text("operations", { mode: "json" }).$type<unknown[]>(),
    /** Operations the group update proposed and the method refused (vague items), with reasons. */
    refused: text("refused", { mode: "json" }).$type<unknown[]>(),
    /** Per-item credit from the group critique: which rollouts followed which item, helped or hurt. */
    credit: text("credit", { mode: "json" }).$type<unknown[]>(),
    reason: text("reason"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.epoch, t.sampleIdx] })],
);

/** One batch: its metrics, consolidated plan and the version it produced. */
export const batches = sqliteTable(
  "batches",
  {
    runId: text("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    epoch: integer("epoch").notNull(),
    batch: integer("batch").notNull(),
    status: text("status", { enum: ["applied", "dropped", "empty"] }).notNull(),
    meanAtG: real("mean_at_g").notNull(),
    passAtG: real("pass_at_g").notNull(),
    groupsKept: integer("groups_kept").notNull(),
    groupsSkipped: integer("groups_skipped").notNull(),
    groupsDropped: integer("groups_dropped").notNull(),
    /** Average tool calls per rollout of the batch (the official code's avg_tool_call). */
    avgToolCalls: real("avg_tool_calls").notNull().default(0),
    plan: text("plan", { mode: "json" }).$type<unknown[]>(),
    /** Operations of the batch plan refused as vague, with reasons. */
    refused: text("refused", { mode: "json" }).$type<unknown[]>(),
    opsByKind: text("ops_by_kind", { mode: "json" }).$type<Record<string, number>>().notNull().default(sql`'{}'`),
    version: integer("version"),
    reason: text("reason"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.epoch, t.batch] })],
);

/**
 * Every paid LLM call, keyed deterministically by its owner (run or evaluation) and purpose,
 * so retried steps never count twice and totals are a GROUP BY.
 */
export const llmCalls = sqliteTable(
  "llm_calls",
  {
    ownerId: text("owner_id").notNull(),
    callKey: text("call_key").notNull(),
    stage: text("stage").notNull(),
    attempts: integer("attempts").notNull(),
    promptTokens: integer("prompt_tokens").notNull(),
    completionTokens: integer("completion_tokens").notNull(),
    cachedTokens: integer("cached_tokens").notNull(),
    /**
     * The accepted reply, so a replayed step reuses it instead of paying again; null when every attempt
     * was unusable (then `error` says why) or when the reply is in R2 (`responseRef`).
     */
    responseInline: text("response"),
    responseRef: textRef("response"),
    error: text("error"),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.callKey] })],
);

/** One proxied chat request, written after the response. */
export const usageLogs = sqliteTable(
  "usage_logs",
  {
    requestId: text("request_id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    keyId: text("key_id"),
    model: text("model"),
    version: integer("version"),
    status: integer("status").notNull(),
    stream: integer("stream", { mode: "boolean" }).notNull(),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    cachedTokens: integer("cached_tokens"),
    latencyMs: real("latency_ms").notNull(),
    ttfbMs: real("ttfb_ms"),
    /** Which API the client called: chat (completions), responses or messages. */
    surface: text("surface", { enum: ["chat", "responses", "messages"] })
      .notNull()
      .default("chat"),
    /** True when the tokens are our estimate (a stream that carried no usage), not the upstream's count. */
    usageEstimated: integer("usage_estimated", { mode: "boolean" }).notNull().default(false),
    createdAt: createdAt(),
    /** The canary that chose this request's version (either arm); null when no canary assigned it (docs/serving.md, "Canary"). */
    canaryId: text("canary_id"),
  },
  (t) => [
    index("usage_agent_time").on(t.agentId, t.createdAt),
    index("usage_key_time").on(t.keyId, t.createdAt),
    index("usage_canary").on(t.canaryId).where(sql`canary_id is not null`),
  ],
);

/** An evaluation of library versions on a data set: Mean@k, Pass@k, intervals, paired differences. */
export const evaluations = sqliteTable(
  "evaluations",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    /** No foreign key: deleting a data set keeps the evaluations made with it. "" for a replay (its captures are in params). */
    datasetId: text("dataset_id").notNull(),
    purpose: text("purpose", { enum: ["manual", "gate", "protocol"] })
      .notNull()
      .default("manual"),
    /** labelled: Mean@k on a data set; replay: held-out captured requests replayed and judged without labels. */
    kind: text("kind", { enum: ["labelled", "replay"] })
      .notNull()
      .default("labelled"),
    /** The run whose final version a gate evaluation validates. */
    runId: text("run_id"),
    /** Versions evaluated, 0 = no library; comparisons are against the last one. */
    versions: text("versions", { mode: "json" }).$type<number[]>().notNull(),
    params: text("params", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    status: text("status", { enum: ["queued", "running", "completed", "failed"] }).notNull(),
    /** Figures computed once at the end (per-question rewards stay in evaluation_scores). */
    summary: text("summary", { mode: "json" }).$type<EvaluationFigures>(),
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  },
  (t) => [index("evaluations_agent").on(t.agentId, t.createdAt)],
);

/** The k rewards of one question under one version; the key makes a replayed step write nothing new. */
export const evaluationScores = sqliteTable(
  "evaluation_scores",
  {
    evaluationId: text("evaluation_id")
      .notNull()
      .references(() => evaluations.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    sampleIdx: integer("sample_idx").notNull(),
    rewards: text("rewards", { mode: "json" }).$type<number[]>().notNull(),
    meanReward: real("mean_reward").notNull(),
  },
  (t) => [primaryKey({ columns: [t.evaluationId, t.version, t.sampleIdx] })],
);

/** Every promotion decision, made or refused, with its figures and who or what decided. */
export const promotions = sqliteTable(
  "promotions",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    decidedBy: text("decided_by", { enum: ["manual", "gate", "schedule", "canary"] }).notNull(),
    /** canary_started: a candidate went to part of the traffic; canary_ramped: its share changed; rolled_back and ended close a canary (docs/serving.md, "Canary"). */
    decision: text("decision", { enum: ["promoted", "refused", "canary_started", "canary_ramped", "rolled_back", "ended"] }).notNull(),
    /** Active version before the decision (null: none). */
    fromVersion: integer("from_version"),
    /** The version promoted, or refused (null: no library). */
    toVersion: integer("to_version"),
    runId: text("run_id"),
    evaluationId: text("evaluation_id"),
    figures: text("figures", { mode: "json" }).$type<GateFigures | CanaryFigures>(),
    reason: text("reason").notNull().default(""),
    /** What the decision went ahead despite, e.g. a version learned on another model (docs/ownership.md). */
    warnings: text("warnings", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    createdAt: createdAt(),
  },
  (t) => [index("promotions_agent").on(t.agentId, t.createdAt)],
);

/**
 * A canary: a candidate version served to `percent` of the agent's traffic next to the active one (its
 * `base_version`), sticky by proxy key or by a request header, until the decision rule promotes or rolls
 * it back, or an admin ends it (docs/serving.md, "Canary"). At most one runs per agent.
 */
export const canaries = sqliteTable(
  "canaries",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** The active version when the canary started, which the candidate is compared with; null: no library. */
    baseVersion: integer("base_version"),
    percent: real("percent").notNull(),
    /** "key" or "header:<name>". */
    stickyBy: text("sticky_by").notNull(),
    rules: text("rules", { mode: "json" }).$type<CanaryRules>().notNull(),
    status: text("status", { enum: ["running", "promoted", "rolled_back", "ended"] }).notNull(),
    startedBy: text("started_by", { enum: ["manual", "gate", "schedule"] }).notNull(),
    /** The run whose gate started it. */
    runId: text("run_id"),
    /** Why it ended. */
    reason: text("reason"),
    endedAt: text("ended_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("canaries_agent").on(t.agentId, t.createdAt),
    // One canary at a time: two would split the traffic three ways and judge each against a moving base.
    uniqueIndex("canaries_one_running_per_agent").on(t.agentId).where(sql`status = 'running'`),
  ],
);

/** A proxied exchange kept for learning (agents with capture enabled), until `expires_at`. */
export const captures = sqliteTable(
  "captures",
  {
    requestId: text("request_id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    version: integer("version"),
    request: text("request", { mode: "json" }).$type<unknown>().notNull(),
    question: text("question").notNull(),
    responseText: text("response_text").notNull(),
    reward: real("reward"),
    answer: text("answer"),
    comment: text("comment"),
    labelledAt: text("labelled_at"),
    createdAt: createdAt(),
    expiresAt: text("expires_at").notNull(),
  },
  (t) => [index("captures_agent").on(t.agentId, t.createdAt), index("captures_expiry").on(t.expiresAt)],
);

/** Every feedback message received, captured or not. */
export const feedback = sqliteTable(
  "feedback",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    requestId: text("request_id").notNull(),
    reward: real("reward"),
    answer: text("answer"),
    comment: text("comment"),
    /** Whether the request was captured, and whether the feedback made it a training sample. */
    captured: integer("captured", { mode: "boolean" }).notNull(),
    sampled: integer("sampled", { mode: "boolean" }).notNull(),
    /** The proxy key that sent it (per-key caps); null for rows from before keys were recorded. */
    keyId: text("key_id"),
    /**
     * Feedback writes no training data on its own (docs/learning.md, "Feedback is reviewed"): a row is
     * pending until an admin approves it (then it becomes a sample) or rejects it. Older rows were
     * sampled on arrival, hence the default.
     */
    status: text("status", { enum: ["pending", "approved", "rejected"] })
      .notNull()
      .default("approved"),
    reviewedAt: text("reviewed_at"),
    createdAt: createdAt(),
  },
  (t) => [index("feedback_agent_request").on(t.agentId, t.requestId), index("feedback_key_day").on(t.keyId, t.createdAt)],
);

/** One row per agent and schedule period: the key that makes a period start at most one run. */
export const scheduledRuns = sqliteTable(
  "scheduled_runs",
  {
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    period: integer("period").notNull(),
    status: text("status", { enum: ["starting", "started", "skipped", "failed"] }).notNull(),
    runId: text("run_id"),
    datasetId: text("dataset_id"),
    feedbackSamples: integer("feedback_samples").notNull().default(0),
    reason: text("reason"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.period] })],
);

/** What the cron trigger did to a run or evaluation that had stopped progressing. */
export const recoveries = sqliteTable(
  "recoveries",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["run", "evaluation"] }).notNull(),
    targetId: text("target_id").notNull(),
    action: text("action").notNull(),
    detail: text("detail"),
    createdAt: createdAt(),
  },
  (t) => [index("recoveries_target").on(t.targetId)],
);

/** A protocol (e.g. the paper's): one training run, then evaluations of its final version. */
export const protocols = sqliteTable(
  "protocols",
  {
    id: text("id").primaryKey(),
    agentId: text("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    params: text("params", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    runId: text("run_id").notNull(),
    evaluationIds: text("evaluation_ids", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    status: text("status", { enum: ["running", "completed", "failed"] }).notNull(),
    error: text("error"),
    createdAt: createdAt(),
    updatedAt: text("updated_at").notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  },
  (t) => [index("protocols_agent").on(t.agentId)],
);

/**
 * Every tool result of a rollout, stored under a deterministic key before the model sees it, so a replay
 * sees the same result (tools need not be deterministic) and never runs a call twice. A row with
 * `state = 'running'` that a replay finds is a call whose invocation died mid-way (e.g. its CPU limit):
 * it is answered with an error instead of being run again.
 */
export const toolResults = sqliteTable(
  "tool_results",
  {
    ownerId: text("owner_id").notNull(),
    callKey: text("call_key").notNull(),
    tool: text("tool").notNull(),
    /** running: started; retried: found running by a replay and started once more; done: output stored. */
    state: text("state", { enum: ["running", "retried", "done"] }).notNull(),
    /** The tool message content (capped); null until done, or when it is in R2 (`outputRef`). */
    outputInline: text("output"),
    outputRef: textRef("output"),
    isError: integer("is_error", { mode: "boolean" }).notNull().default(false),
    durationMs: integer("duration_ms"),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.callKey] })],
);

/**
 * The first answer to a POST that starts paid work, by its Idempotency-Key: a retried request gets it
 * back instead of starting the work again (docs/security.md, "Idempotent starts"). Kept one day.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    route: text("route").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the request body: the same key with another body is refused. */
    requestHash: text("request_hash").notNull(),
    /** Null while the first request is still being answered. */
    status: integer("status"),
    response: text("response", { mode: "json" }).$type<unknown>(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.route, t.key] }), index("idempotency_created").on(t.createdAt)],
);

/**
 * R2 key prefixes whose objects are being deleted (docs/architecture.md §11): written in the same D1
 * batch that deletes the rows referring to them, swept by the request that deleted them and then by the
 * cron trigger in bounded batches. A row stays until its prefix lists empty and `created_at` is older
 * than the sweep's grace period, so objects a late writer (a group still in flight) adds are swept too.
 */
export const textSweeps = sqliteTable("text_sweeps", {
  prefix: text("prefix").primaryKey(),
  reason: text("reason").notNull(),
  /** Objects deleted under the prefix so far. */
  deleted: integer("deleted").notNull().default(0),
  createdAt: createdAt(),
});
