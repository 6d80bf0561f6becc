/**
 * `tfgrpo`: the admin API from the command line, against `npm start`'s local stack or a deployed
 * Worker. Connection: --url/--token, TFGRPO_URL/TFGRPO_TOKEN, or ~/.config/tfgrpo/config.json.
 * Human-readable tables by default, `--json` for scripts; failures exit non-zero with a one-line reason.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { Command } from "commander";
import { cliError, configPath } from "./connection";
import { agentsCommand } from "./commands/agents";
import { canaryCommand } from "./commands/canary";
import { datasetsCommand } from "./commands/datasets";
import { evalCommand } from "./commands/eval";
import { feedbackCommand } from "./commands/feedback";
import { keysCommand } from "./commands/keys";
import { libraryCommand } from "./commands/library";
import { promoteCommand } from "./commands/promote";
import { runsCommand } from "./commands/runs";
import { out } from "./output";

function configCommand(): Command {
  return new Command("config")
    .description(`save --url and --token to ${configPath()} (without them: show the saved settings)`)
    .addHelpText("after", "\nExample:\n  tfgrpo config --url https://tfgrpo.example.workers.dev --token $ADMIN_TOKEN")
    .action((_o: unknown, c: Command) => {
      const { url, token, json } = c.optsWithGlobals<{ url?: string; token?: string; json?: boolean }>();
      const path = configPath();
      const saved = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as { url?: string; token?: string }) : {};
      if (url || token) {
        const next = { ...saved, ...(url ? { url } : {}), ...(token ? { token } : {}) };
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
        out(json === true, { path, url: next.url ?? null }, () => `saved ${path}`);
      } else {
        const shown = { path, url: saved.url ?? null, token: saved.token ? `${saved.token.slice(0, 6)}…` : null };
        out(json === true, shown, () => `${path}\nurl:   ${shown.url ?? "(not set)"}\ntoken: ${shown.token ?? "(not set)"}`);
      }
    });
}

const program = new Command("tfgrpo")
  .description("Training-Free GRPO on Cloudflare Workers: manage agents, data sets, training runs, libraries and evaluations")
  .version("0.1.0")
  .option("--url <url>", "base URL of the Worker (env TFGRPO_URL)")
  .option("--token <token>", "admin token (env TFGRPO_TOKEN)")
  .option("--json", "machine-readable JSON output")
  .addHelpText(
    "after",
    `
Connection settings: --url/--token, else TFGRPO_URL/TFGRPO_TOKEN, else ${configPath()}.
Examples:
  tfgrpo agents list
  tfgrpo runs start --agent demo --dataset sim-train --epochs 1 --watch
  tfgrpo library diff demo 0 1`,
  )
  .addCommand(agentsCommand())
  .addCommand(keysCommand())
  .addCommand(feedbackCommand())
  .addCommand(datasetsCommand())
  .addCommand(runsCommand())
  .addCommand(libraryCommand())
  .addCommand(evalCommand())
  .addCommand(promoteCommand())
  .addCommand(canaryCommand())
  .addCommand(configCommand())
  .showSuggestionAfterError(true);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const error = cliError(e);
  process.stderr.write(`error: ${error.message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exitCode = error.exitCode;
}
