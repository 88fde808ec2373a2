// The member directory (GET /api/v1/members): filters such as {q, sector, city, affiliation,
// language, limit}. Nothing is kept: each view holds the answer it asked for.
import { api } from "../api.js";

export async function searchMembers(filters) {
  return (await api("GET", `/api/v1/members?${new URLSearchParams(filters)}`)).members;
}
