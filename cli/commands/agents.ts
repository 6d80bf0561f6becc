import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { Agent } from "../adminClient";
import { CliError, context, enc } from "../connection";
import { fields, out, table } from "../output";

type AgentOptions = {
  name?: string;
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  apiKeySecret?: string;
  systemPrompt?: string;
  systemPromptFile?: string;
  objective?: string;
  verifier?: string;
  defaults?: string;
  set?: string;
};

function parseJson(label: string, value: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new CliError(`${label}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The request body fields shared by create and update. */
function body(o: AgentOptions): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  const upstream: Record<string, unknown> = {};
  if (o.baseUrl !== undefined) upstream.baseUrl = o.baseUrl;
  if (o.model !== undefined) upstream.model = o.model;
  if (o.apiKey !== undefined) upstream.apiKey = o.apiKey;
  if (o.apiKeySecret !== undefined) upstream.apiKeySecret = o.apiKeySecret;
  if (Object.keys(upstream).length) b.upstream = upstream;
  if (o.systemPromptFile !== undefined) b.systemPrompt = readFileSync(o.systemPromptFile, "utf8");
  if (o.systemPrompt !== undefined) b.systemPrompt = o.systemPrompt;
  if (o.objective !== undefined) b.objective = o.objective;
  if (o.verifier !== undefined) b.verifier = o.verifier.trim().startsWith("{") ? parseJson("--verifier", o.verifier) : { kind: o.verifier };
  if (o.defaults !== undefined) b.trainingDefaults = parseJson("--defaults", o.defaults);
  if (o.set !== undefined) Object.assign(b, parseJson("--set", o.set));
  return b;
}

export function showAgent(a: Agent): string {
  return fields([
    ["id", a.id],
    ["name", a.name],
    [
      "upstream",
      `${a.upstream.baseUrl} (model ${a.upstream.model}${a.upstream.hasApiKey ? ", key stored" : a.upstream.apiKeySecret ? `, key in secret ${a.upstream.apiKeySecret}` : ""})`,
    ],
    ["verifier", a.verifier.kind],
    ["active version", a.activeVersion ?? "none"],
    ["system prompt", a.systemPrompt || "(empty)"],
    ["objective", a.objective || "(empty)"],
    ["training defaults", Object.keys(a.trainingDefaults).length ? a.trainingDefaults : "(paper defaults)"],
    ["created", a.createdAt],
    ["updated", a.updatedAt],
  ]);
}

const agentOptions = (cmd: Command) =>
  cmd
    .option("--api-key <key>", "upstream API key (stored encrypted, never shown again)")
    .option("--api-key-secret <NAME>", "name of a Worker secret holding the upstream key, instead of --api-key")
    .option("--system-prompt <text>", "system prompt")
    .option("--system-prompt-file <file>", "read the system prompt from a file")
    .option("--objective <text>", "learning objective used by the reflection prompts")
    .option("--verifier <kind|json>", "math, exact, numeric, regex, choice, judge, or a JSON spec")
    .option("--defaults <json>", 'training defaults, e.g. \'{"epochs": 3, "groupSize": 5}\'')
    .option("--set <json>", "any other agent fields as JSON (gate, capture, schedule, allowedModels, …)");

export function agentsCommand(): Command {
  const cmd = new Command("agents").description("create, list, show and update agents");

  agentOptions(
    cmd
      .command("create")
      .description("create an agent")
      .argument("<name>", "lowercase letters, digits, '-' and '_'")
      .requiredOption("--base-url <url>", "upstream OpenAI-compatible base URL, or sim://local")
      .requiredOption("--model <model>", "upstream model"),
  )
    .addHelpText(
      "after",
      '\nExample:\n  tfgrpo agents create math --base-url sim://local --model sim-1 --system-prompt "Answer in \\\\boxed{}."',
    )
    .action(async (name: string, o: AgentOptions, c: Command) => {
      const { api, json } = context(c);
      const agent = await api.post<Agent>("/agents", { name, ...body(o) });
      out(json, agent, () => `created agent ${agent.name} (${agent.id})`);
    });

  cmd
    .command("list")
    .description("list agents")
    .action(async (_o: unknown, c: Command) => {
      const { api, json } = context(c);
      const { data } = await api.get<{ data: Agent[] }>("/agents");
      out(json, data, () =>
        table(data, [
          ["name", (a) => a.name],
          ["id", (a) => a.id],
          ["model", (a) => a.upstream.model],
          ["upstream", (a) => a.upstream.baseUrl],
          ["active", (a) => a.activeVersion ?? "none"],
          ["created", (a) => a.createdAt],
        ]),
      );
    });

  cmd
    .command("show")
    .description("show an agent")
    .argument("<agent>", "agent name or id")
    .action(async (ref: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const agent = await api.get<Agent>(`/agents/${enc(ref)}`);
      out(json, agent, () => showAgent(agent));
    });

  agentOptions(
    cmd
      .command("update")
      .description("update an agent (only the options given change)")
      .argument("<agent>", "agent name or id")
      .option("--name <name>", "rename")
      .option("--base-url <url>", "upstream base URL")
      .option("--model <model>", "upstream model"),
  )
    .addHelpText("after", "\nExample:\n  tfgrpo agents update math --defaults '{\"epochs\": 2}'")
    .action(async (ref: string, o: AgentOptions, c: Command) => {
      const { api, json } = context(c);
      const patch = { ...(o.name ? { name: o.name } : {}), ...body(o) };
      if (Object.keys(patch).length === 0) throw new CliError("nothing to update: pass at least one option (see --help)");
      const agent = await api.patch<Agent>(`/agents/${enc(ref)}`, patch);
      out(json, agent, () => `updated agent ${agent.name} (${agent.id})`);
    });

  cmd
    .command("delete")
    .description("delete an agent with its keys and library versions")
    .argument("<agent>", "agent name or id")
    .addOption(new Option("--yes", "confirm").makeOptionMandatory())
    .action(async (ref: string, _o: unknown, c: Command) => {
      const { api, json } = context(c);
      const res = await api.del<{ id: string; deleted: boolean }>(`/agents/${enc(ref)}`);
      out(json, res, () => `deleted agent ${res.id}`);
    });

  return cmd;
}
