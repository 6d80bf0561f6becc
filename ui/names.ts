/** Names of agents and data sets by id (runs and evaluations carry ids), fetched once per page load. */
import { api } from "./api";

const agents = new Map<string, Promise<string>>();
const datasets = new Map<string, Promise<string>>();

function cached(map: Map<string, Promise<string>>, id: string, load: () => Promise<string>): Promise<string> {
  let name = map.get(id);
  if (!name) {
    // A failed lookup (deleted data set) shows the id, and is not cached.
    name = load().catch(() => {
      map.delete(id);
      return id;
    });
    map.set(id, name);
  }
  return name;
}

export const agentName = (id: string): Promise<string> => cached(agents, id, async () => (await api.agent(id)).name);
export const datasetName = (id: string): Promise<string> => cached(datasets, id, async () => (await api.dataset(id)).name);
