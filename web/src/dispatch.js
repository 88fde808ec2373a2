// The frame dispatcher: every frame from the socket goes to the subject module that owns its
// subject (several, when it concerns several), which changes the state. Nothing is decided
// here but dropping a room's log entries already processed. A new frame type is one line
// below and one handler in its subject's module; a type not listed (`joined`) changes nothing.
import { connection, routeTo } from "./subjects/connection.js";
import * as board from "./subjects/board.js";
import * as conversations from "./subjects/conversations.js";
import * as current from "./subjects/current.js";
import * as messages from "./subjects/messages.js";
import * as moderation from "./subjects/moderation.js";
import * as notifications from "./subjects/notifications.js";
import * as outbox from "./subjects/outbox.js";
import * as presence from "./subjects/presence.js";
import * as projects from "./subjects/projects.js";
import * as rooms from "./subjects/rooms.js";
import * as topics from "./subjects/topics.js";
import * as webinars from "./subjects/webinars.js";

const ROUTES = {
  message: [messages.onMessage, current.onMessage],
  edit: [messages.onEdit],
  delete: [messages.onDelete],
  reaction: [messages.onReaction],
  resync: [messages.onResync],
  topic: [topics.onTopic],
  status: [conversations.onStatus],
  read: [conversations.onRead, rooms.onRead],
  membership: [conversations.onMembership],
  left: [rooms.onLeft],
  room_settings: [rooms.onRoomSettings],
  ack: [outbox.onAck, webinars.onAck],
  error: [outbox.onError, webinars.onError],
  presence: [presence.onPresence],
  typing: [presence.onTyping],
  notification: [rooms.onNotification, notifications.onNotification, webinars.onNotification,
    projects.onNotification],
  notifications_read: [notifications.onNotificationsRead],
  pong: [notifications.onPong],
  webinar: [webinars.onWebinar],
  question: [board.onQuestion],
  question_state: [board.onQuestionState],
  poll: [board.onPoll],
  question_private: [board.onQuestionPrivate],
  board: [board.onBoard],
  moderation_notice: [moderation.onNotice],
};

// A room's log entries: one at or below the last seq processed is a replay overlap, dropped.
// (A `membership` frame without a seq is the one sent to someone not in the room yet.)
const LOGGED = new Set(["message", "edit", "delete", "reaction", "topic", "status", "membership", "webinar", "question",
  "question_state", "poll"]);

function dispatch(frame) {
  if (LOGGED.has(frame.type) && frame.seq !== undefined && !connection.advance(frame.room, frame.seq)) return;
  for (const handle of ROUTES[frame.type] || []) handle(frame);
}

function opened() {
  notifications.onConnectionOpen();
  rooms.onConnectionOpen();
  webinars.onConnectionOpen();
  board.onConnectionOpen();
}

routeTo({ frame: dispatch, open: opened });
