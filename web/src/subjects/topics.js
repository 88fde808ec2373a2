// Topics and news posts: the lists in a sector or city room's side panel, a thread's own
// topic (threads are rooms, `t-…` and `n-…`), resolving and pinning, starting one, the news feed.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { roomData } from "./messages.js";
import { roomInfo } from "./rooms.js";

const isThread = (room) => room.startsWith("t-") || room.startsWith("n-");

// A listing room's topics and news; a thread's topic.
export async function loadTopics(room) {
  const data = roomData(room);
  const info = roomInfo(room);
  if (info && (info.kind === "sector" || info.kind === "city")) {
    data.topics = (await api("GET", `/api/v1/rooms/${room}/topics?limit=20`)).topics;
    data.news = (await api("GET", `/api/v1/rooms/${room}/news?limit=20`)).news;
  }
  if (isThread(room)) {
    data.meta = { topic: (await api("GET", `/api/v1/topics/${room}`)).topic };
  }
  changed();
}

// Starts a topic in `room`, from one of its messages if given; resolves to the topic.
export async function createTopic(room, { title, body, messageId, attachments = [] }) {
  const fields = { title };
  if (body) fields.body = body;
  if (attachments.length) fields.attachments = attachments;
  if (messageId) fields.message_id = messageId;
  return (await api("POST", `/api/v1/rooms/${room}/topics`, fields)).topic;
}

// Resolve or pin a topic or news post; the answer (and the live `topic` entry) shows it.
export async function updateTopic(id, change) {
  const { topic } = await api("PATCH", `/api/v1/topics/${id}`, change);
  const data = state.data.get(id);
  if (data?.meta) data.meta = { ...data.meta, topic: { ...data.meta.topic, ...topic } };
  changed();
}

// Threads are rooms outside the room list: their titles are asked for once.
const threadTitles = new Map(); // room id -> title ("" while asked, or when it failed)

// A thread's title, or "" while it is not known (or the room is not a thread).
export function threadTitle(room) {
  const topic = state.data.get(room)?.meta?.topic;
  if (topic) return topic.title;
  if (!/^[tn]-/.test(room)) return "";
  if (!threadTitles.has(room)) {
    threadTitles.set(room, "");
    api("GET", `/api/v1/topics/${room}`)
      .then(({ topic: found }) => { threadTitles.set(room, found.title); changed(); })
      .catch(() => {});
  }
  return threadTitles.get(room);
}

// The platform-wide news feed, newest first.
export async function listNews() {
  return (await api("GET", "/api/v1/news?limit=50")).news;
}

// Moderators and admins: {title, summary, body, rooms}.
export async function postNews(post) {
  await api("POST", "/api/v1/news", post);
}

// ---- frames ----------------------------------------------------------------------------

// A topic started or changed in a room: its lists follow, and so does the thread if loaded.
export function onTopic(frame) {
  loadTopics(frame.room);
  const thread = state.data.get(frame.topic?.id);
  if (thread?.meta?.topic) thread.meta = { ...thread.meta, topic: { ...thread.meta.topic, ...frame.topic } };
}
