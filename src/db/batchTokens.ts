import type { Db } from "./client";

/** Tokens a run's LLM calls spent on one batch: its groups' rollouts, summaries and critiques, and its update. */
export type BatchTokens = { epoch: number; batch: number; promptTokens: number; completionTokens: number };

/**
 * Tokens per batch of a run, from its stored calls. A call's key names its epoch and either its sample
 * (`e{epoch}/s{sample}/…`, a group's call; the sample's batch in that epoch comes from its rollouts) or
 * its batch (`e{epoch}/b{batch}/…`, the batch update and consolidation). A group whose first rollout is
 * not yet stored is counted from the next read on. One aggregate statement, like `usageByStage`.
 */
export async function tokensByBatch(d: Db, runId: string): Promise<BatchTokens[]> {
  const { results } = await d.$client
    .prepare(
      `with c as (
         select cast(substr(call_key, 2, instr(call_key, '/') - 2) as integer) as epoch,
                substr(call_key, instr(call_key, '/') + 1) as rest, prompt_tokens as p, completion_tokens as q
           from llm_calls where owner_id = ?1 and call_key like 'e%/%'),
       k as (
         select epoch, substr(rest, 1, 1) as kind, cast(substr(rest, 2, instr(rest, '/') - 2) as integer) as n, p, q
           from c where substr(rest, 1, 1) in ('s', 'b')),
       s as (select distinct epoch, sample_idx, batch from rollouts where run_id = ?1),
       t as (
         select k.epoch as e, case when k.kind = 'b' then k.n else s.batch end as b, k.p, k.q
           from k left join s on k.kind = 's' and s.epoch = k.epoch and s.sample_idx = k.n)
       select e as epoch, b as batch, sum(p) as promptTokens, sum(q) as completionTokens
         from t where b is not null group by e, b order by e, b`,
    )
    .bind(runId)
    .all<BatchTokens>();
  return results;
}
