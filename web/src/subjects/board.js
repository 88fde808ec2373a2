// A webinar's Q&A board and polls (docs/protocol.md, "The Q&A board and polls"): the snapshot
// (GET …/board, on opening and after every reconnect), the room log's `question`,
// `question_state` and `poll` events, the personal channel's `question_private` frames
// (pending questions; who asked an anonymous one, for hosts) and the coalesced counts of the
// `board` frames. Per question and per poll the entry with the highest version wins, so
// frames crossing from two nodes, a replay and a snapshot all end at the same exact counts.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { connection } from "./connection.js";

const VISIBLE = new Set(["open", "answering", "answered"]);
const POLL_ORDER = { draft: 0, open: 1, closed: 2 };
let cids = 0;

// state.boards: webinar id -> its board (one entry per webinar opened on this page).
function boardOf(id) {
  let board = state.boards.get(id);
  if (!board) {
    board = {
      loaded: false, role: "attendee", premoderated: false, seq: 0,
      questions: new Map(), // id -> question (the newest `version` seen)
      votes: new Map(), // id -> [votes, votes version] (the newest seen)
      myVotes: new Set(), mine: new Set(), // ids voted for; ids asked by this member
      polls: new Map(), // id -> poll (state only moves forward; results_public once true stays)
      counts: new Map(), // poll id -> {counts, version}
      myAnswers: new Map(), // poll id -> [index]
    };
    state.boards.set(id, board);
  }
  return board;
}

export const boardFor = (id) => state.boards.get(id) || null;

// ---- merging ---------------------------------------------------------------------------

function putQuestion(board, question, { mine = false } = {}) {
  const held = board.questions.get(question.id);
  if (mine || question.asked_by?.id === state.user?.id || (question.author && question.author.id === state.user?.id)) {
    board.mine.add(question.id);
  }
  if (!held || question.version > held.version) {
    // A host's copy says who asked; a later public copy of the same question must not lose it.
    const askedBy = question.asked_by || held?.asked_by;
    board.questions.set(question.id, askedBy ? { ...question, asked_by: askedBy } : question);
  } else if (question.asked_by && !held.asked_by) {
    held.asked_by = question.asked_by;
  }
  if (question.votes) putVotes(board, question.id, question.votes);
}

function putVotes(board, id, votes) {
  const held = board.votes.get(id);
  if (!held || votes[1] > held[1]) board.votes.set(id, votes);
}

function putPoll(board, poll) {
  const held = board.polls.get(poll.id);
  if (!held) board.polls.set(poll.id, poll);
  else {
    const forward = POLL_ORDER[poll.state] >= POLL_ORDER[held.state];
    board.polls.set(poll.id, {
      ...held, ...poll,
      state: forward ? poll.state : held.state,
      results_public: Boolean(held.results_public || poll.results_public),
      opened_at: poll.opened_at ?? held.opened_at, closed_at: poll.closed_at ?? held.closed_at,
    });
  }
  if (poll.counts) putCounts(board, poll.id, { counts: poll.counts, version: poll.version, answers: poll.answers });
}

function putCounts(board, id, entry) {
  const held = board.counts.get(id);
  if (!held || entry.version > held.version) board.counts.set(id, { ...entry, answers: entry.answers ?? null });
}

// ---- what views read -------------------------------------------------------------------

export const votesOf = (board, id) => board.votes.get(id)?.[0] ?? 0;
export const countsOf = (board, id) => board.counts.get(id) || null;

// The questions everyone sees (and the viewer's own pending ones; all pending ones for
// hosts), pinned first, then by votes (most first, oldest first among equals) or by time
// (newest first).
export function questionsOf(board, sort) {
  const shown = [...board.questions.values()].filter((q) => VISIBLE.has(q.state)
    || (q.state === "pending" && board.mine.has(q.id)));
  return shown.sort((a, b) => (b.pinned - a.pinned)
    || (sort === "votes" ? (votesOf(board, b.id) - votesOf(board, a.id)) || a.asked_at.localeCompare(b.asked_at) : 0)
    || b.asked_at.localeCompare(a.asked_at));
}

export const pendingOf = (board) => [...board.questions.values()].filter((q) => q.state === "pending")
  .sort((a, b) => a.asked_at.localeCompare(b.asked_at));
export const answeringOf = (board) => [...board.questions.values()].find((q) => q.state === "answering") || null;
export const pollsOf = (board) => [...board.polls.values()].sort((a, b) => (a.opened_at || "~").localeCompare(b.opened_at || "~"));
// The poll a presenter shows: the open one, else the latest whose results are public.
export function presentedPoll(board) {
  const polls = pollsOf(board).filter((p) => p.state !== "draft");
  return polls.filter((p) => p.state === "open").pop() || polls.filter((p) => p.results_public).pop() || null;
}

// Hosts and moderators moderate and run polls; panelists (and they) mark answering/answered.
export const moderates = (board) => board?.role === "host" || board?.role === "moderator";
export const answers = (board) => moderates(board) || board?.role === "panelist";

// ---- actions ---------------------------------------------------------------------------

// The snapshot: on opening the page, and after every reconnect (the counts are exact again).
export async function loadBoard(id) {
  const snapshot = await api("GET", `/api/v1/webinars/${id}/board`);
  const board = boardOf(id);
  board.role = snapshot.role;
  board.premoderated = snapshot.premoderated;
  board.seq = snapshot.seq;
  for (const question of snapshot.questions) putQuestion(board, question, { mine: question.mine });
  // A question no longer listed to this viewer (its pending one dismissed meanwhile) goes.
  const listed = new Set(snapshot.questions.map((q) => q.id));
  for (const [qid, q] of board.questions) if (!listed.has(qid) && q.state === "pending") board.questions.delete(qid);
  board.myVotes = new Set(snapshot.my_votes);
  for (const poll of snapshot.polls) putPoll(board, poll);
  board.myAnswers = new Map(Object.entries(snapshot.my_answers || {}));
  board.loaded = true;
  // Every change after the snapshot is an event above its seq: join from there unless joined.
  if (!connection.rooms.has(id)) connection.join(id, snapshot.seq);
  changed();
  return board;
}

export async function ask(id, body, anonymous) {
  const { question } = await api("POST", `/api/v1/webinars/${id}/questions`,
    { body, anonymous, cid: `q${Date.now().toString(36)}${(cids += 1)}` });
  putQuestion(boardOf(id), question, { mine: true });
  changed();
  return question;
}

async function questionCall(id, method, path, body) {
  const { question } = await api(method, `/api/v1/webinars/${id}/questions/${path}`, body);
  putQuestion(boardOf(id), question);
  changed();
  return question;
}

export const editQuestion = (id, qid, body) => questionCall(id, "PATCH", qid, { body });
export const withdrawQuestion = (id, qid) => questionCall(id, "PATCH", qid, { withdrawn: true });
export const moderate = (id, qid, action, answer) =>
  questionCall(id, "POST", `${qid}/moderation`, answer === undefined ? { action } : { action, answer });

export async function setVote(id, qid, on) {
  const board = boardOf(id);
  const { votes } = await api(on ? "PUT" : "DELETE", `/api/v1/webinars/${id}/questions/${qid}/vote`);
  if (on) board.myVotes.add(qid);
  else board.myVotes.delete(qid);
  putVotes(board, qid, votes);
  changed();
}

// {question: {en, zh}, options: [{en, zh}], multiple}: a draft.
export async function createPoll(id, fields) {
  const { poll } = await api("POST", `/api/v1/webinars/${id}/polls`, fields);
  putPoll(boardOf(id), poll);
  changed();
  return poll;
}

// change: "open" | "close" | "publish".
export async function movePoll(id, pid, change) {
  const { poll } = await api("POST", `/api/v1/webinars/${id}/polls/${pid}/${change}`);
  putPoll(boardOf(id), poll);
  changed();
}

export async function answerPoll(id, pid, choices) {
  const answer = await api("PUT", `/api/v1/webinars/${id}/polls/${pid}/answer`, { choices });
  const board = boardOf(id);
  putPoll(board, answer.poll);
  board.myAnswers.set(pid, answer.choices);
  changed();
}

// ---- frames ----------------------------------------------------------------------------

// Frames are applied even before the snapshot answered (versions decide what wins), so one
// arriving while it loads is not lost.
export function onQuestion(frame) {
  putQuestion(boardOf(frame.room), frame.question);
}
export const onQuestionState = onQuestion;

export function onQuestionPrivate(frame) {
  putQuestion(boardOf(frame.room), frame.question);
}

export function onPoll(frame) {
  putPoll(boardOf(frame.room), frame.poll);
}

export function onBoard(frame) {
  const board = boardOf(frame.room);
  for (const [qid, votes] of Object.entries(frame.questions || {})) putVotes(board, qid, votes);
  for (const [pid, entry] of Object.entries(frame.polls || {})) putCounts(board, pid, entry);
}

// After a reconnect the counts may have moved while no frame could reach us: the board on
// screen asks for its snapshot again (the room's replay brings the events); another one does
// when it is opened again (views/webinarboard.js loads it on every opening).
export function onConnectionOpen() {
  const board = state.boards.get(state.current);
  if (board?.loaded) loadBoard(state.current).catch(() => {});
}
