import { deriveSeed } from "../core/batching";
import { callReply, findCall, storeCall } from "../db/llmCalls";
import {
  claimToolCall,
  findToolResult,
  finishToolCall,
  retryToolCall,
  toolOutput,
  toolResultsWithPrefix,
  type ToolResultRow,
} from "../db/toolResults";
import { chatCompletion } from "../llm/client";
import { clip } from "../tools/code/quickjs";
import type { ToolBox } from "../tools/dispatch";
import type { ToolCallMessage, TrajectoryMessage } from "../tools/messages";
import { runReact, type AssistantTurn, type ReactOutcome } from "../tools/react";
import type { CallContext } from "./llmCall";

/** Bytes of one tool result kept in D1 and shown to the model (tools cap their own output below this). */
export const STORED_TOOL_OUTPUT_BYTES = 48 * 1024;

export type ReactSpec = {
  /** Key of the rollout, e.g. `e1/s17/r3`; turns are `<key>/t<n>`, tool results `<key>/t<n>/c<i>`. */
  key: string;
  messages: TrajectoryMessage[];
  maxTurns: number;
  temperature: number;
  seed: number;
  tools: ToolBox;
};

const replySchema = (text: string): AssistantTurn => {
  const parsed = JSON.parse(text) as { content: string | null; tool_calls?: ToolCallMessage[] };
  return { content: parsed.content, toolCalls: parsed.tool_calls ?? [] };
};

/**
 * A tool-using rollout whose every model turn (in llm_calls) and every tool result (in tool_results)
 * is stored under a deterministic key before it is used: a retried or replayed step pays for no turn
 * twice and sees the same tool results. Upstream failures throw, for the Workflow to retry the step.
 */
export async function reactRollout(ctx: CallContext, spec: ReactSpec): Promise<ReactOutcome> {
  const storedTools = new Map<string, ToolResultRow>();
  const mayHaveTools = !ctx.preloaded || [...ctx.preloaded.calls.keys()].some((k) => k.startsWith(`${spec.key}/`));
  if (mayHaveTools) for (const row of await toolResultsWithPrefix(ctx.d, ctx.ownerId, `${spec.key}/`)) storedTools.set(row.callKey, row);

  return runReact(spec.messages, spec.maxTurns, {
    async turn(t, messages) {
      const key = `${spec.key}/t${t}`;
      const stored =
        ctx.preloaded && key.startsWith(ctx.preloaded.prefix) ? ctx.preloaded.calls.get(key) : await findCall(ctx.d, ctx.ownerId, key);
      const storedReply = stored ? await callReply(ctx.texts, stored) : null;
      if (storedReply) return replySchema(storedReply);
      const reply = await chatCompletion(
        ctx.send,
        { model: ctx.model, messages, temperature: spec.temperature, seed: deriveSeed(spec.seed, "turn", t), tools: spec.tools.functions },
        ctx.retry,
      );
      const turn = { content: reply.content === "" && reply.toolCalls.length > 0 ? null : reply.content, tool_calls: reply.toolCalls };
      await storeCall(ctx.d, ctx.texts, {
        ownerId: ctx.ownerId,
        callKey: key,
        stage: "rollout",
        attempts: reply.attempts,
        ...reply.usage,
        response: JSON.stringify(turn),
        error: null,
      });
      // A concurrent duplicate may have stored first: what is stored is what counts.
      const winner = await findCall(ctx.d, ctx.ownerId, key);
      return replySchema((winner ? await callReply(ctx.texts, winner) : null) ?? JSON.stringify(turn));
    },
    async execute(t, i, call) {
      const key = `${spec.key}/t${t}/c${i}`;
      const stored = storedTools.get(key) ?? (mayHaveTools ? undefined : await findToolResult(ctx.d, ctx.ownerId, key));
      if (stored?.state === "done") return toolOutput(ctx.texts, stored);
      const claimed = !stored && (await claimToolCall(ctx.d, { ownerId: ctx.ownerId, callKey: key, tool: call.function.name }));
      if (!claimed) {
        const again = await findToolResult(ctx.d, ctx.ownerId, key);
        if (again?.state === "done") return toolOutput(ctx.texts, again);
        // Started before and never finished: its invocation died. That may have nothing to do with the
        // call (a restart, a deploy), so it runs once more; if that dies too (the call itself hits the
        // CPU or memory limit) the model gets an error instead (the outer bound of docs/tools.md).
        const retry = again?.state === "running" && (await retryToolCall(ctx.d, ctx.ownerId, key));
        if (!retry) {
          const output = JSON.stringify({
            error: `the ${call.function.name} call did not finish twice (its invocation was stopped); it was not run again`,
          });
          await finishToolCall(ctx.d, ctx.texts, { ownerId: ctx.ownerId, callKey: key, output, isError: true, durationMs: 0 });
          return output;
        }
      }
      const started = Date.now();
      const outcome = await spec.tools.call(call.function.name, call.function.arguments);
      const output = clip(outcome.output, STORED_TOOL_OUTPUT_BYTES);
      await finishToolCall(ctx.d, ctx.texts, {
        ownerId: ctx.ownerId,
        callKey: key,
        output,
        isError: outcome.isError,
        durationMs: Date.now() - started,
      });
      return output;
    },
  });
}
