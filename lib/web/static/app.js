// The chat page. It talks to the server over one WebSocket in the JSON
// frames of docs/web.md: commands out and their replies back in order, chat
// in and the page's receipt out once the message is on screen. Everything
// that comes from the network is shown as text, never as markup.

/** Commands sent ahead of their replies; the rest wait their turn here. */
const MAX_IN_FLIGHT = 8;
/** How often the online list is asked for while the page is in view. */
const LIST_EVERY_MS = 2000;
/** How often while the page is out of view. */
const LIST_EVERY_HIDDEN_MS = 10000;

const byId = (id) => document.getElementById(id);
const ui = {
  status: byId("status"),
  whoami: byId("whoami"),
  logout: byId("logout"),
  loginView: byId("login-view"),
  loginForm: byId("login-form"),
  user: byId("user"),
  password: byId("password"),
  loginError: byId("login-error"),
  loginButton: byId("login-button"),
  chatView: byId("chat-view"),
  online: byId("online"),
  log: byId("log"),
  compose: byId("compose"),
  to: byId("to"),
  message: byId("message"),
  composeError: byId("compose-error"),
};

const encoder = new TextEncoder();
const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
});

/** The open socket, or null. */
let socket = null;
/** Why the server last closed the socket, if it said. */
let closeReason = "";
/** The user logged in on this page, or null. */
let me = null;
/** The longest line the server takes, from its hello frame. */
let maxLineBytes = 65536;
/** Commands not sent yet, and the answers awaited for those sent, in order. */
const waiting = [];
const inFlight = [];
/** The names of the last online list, the page's own first. */
let online = [];
let listTimer = 0;
let listPending = false;
/** Messages that came while the page was out of view. */
let unread = 0;

function connect() {
  return new Promise((resolve, reject) => {
    const url = new URL("/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    let opened = false;
    closeReason = "";
    ws.addEventListener("open", () => {
      opened = true;
      socket = ws;
      resolve(ws);
    });
    ws.addEventListener("message", (event) => {
      if (ws === socket) takeFrame(event.data);
    });
    ws.addEventListener("close", (event) => {
      closeReason = event.reason;
      if (!opened) {
        reject(new Error("the server cannot be reached"));
        return;
      }
      if (ws === socket) socketClosed();
    });
  });
}

function takeFrame(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return;
  }
  if (frame.hello !== undefined) {
    maxLineBytes = frame.hello.maxLineBytes;
  } else if (frame.reply !== undefined) {
    inFlight.shift()?.(frame);
    pump();
  } else if (frame.chat !== undefined) {
    showChat(frame.chat);
    // Shown: now, and only now, the receipt.
    socket.send(JSON.stringify({ op: "received" }));
  } else if (frame.notice !== undefined) {
    showStatus(frame.notice);
  }
}

function socketClosed() {
  socket = null;
  for (const answer of inFlight.splice(0)) answer(null);
  for (const { answer } of waiting.splice(0)) answer(null);
  if (me !== null) {
    leaveChat(
      `Disconnected${closeReason ? `: ${closeReason}` : ""}. ` +
        "Log in again to go on.",
    );
  }
}

/** Sends a command; resolves to its reply frame, or null if none came. */
function command(frame) {
  return new Promise((answer) => {
    waiting.push({ frame, answer });
    pump();
  });
}

function pump() {
  while (
    socket !== null && socket.readyState === WebSocket.OPEN &&
    inFlight.length < MAX_IN_FLIGHT && waiting.length > 0
  ) {
    const { frame, answer } = waiting.shift();
    inFlight.push(answer);
    socket.send(JSON.stringify(frame));
  }
  if (socket === null) {
    for (const { answer } of waiting.splice(0)) answer(null);
  }
}

function showStatus(text) {
  ui.status.textContent = text;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Adds a message to the conversation; returns its entry. */
function addEntry({ sender, own, to, text }) {
  const log = ui.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  const now = new Date();
  const isPrivate = to !== null;
  const entry = element(
    "div",
    `entry ${own ? "own" : "incoming"} ${isPrivate ? "private" : "everyone"}`,
  );
  const meta = element("p", "meta");
  const time = element("time", "", timeFormat.format(now));
  time.dateTime = now.toISOString();
  meta.append(
    time,
    " ",
    element("span", "sender", own ? "You" : sender),
    " ",
    element(
      "span",
      "scope",
      isPrivate ? `to ${own ? to : "you"}, private` : "to everyone",
    ),
  );
  entry.append(meta, element("p", "text", text));
  log.append(entry);
  if (atBottom || own) log.scrollTop = log.scrollHeight;
  return entry;
}

function setFate(entry, text, kind) {
  let fate = entry.querySelector(".fate");
  if (fate === null) {
    fate = element("p", "fate");
    entry.append(fate);
  }
  fate.className = `fate ${kind}`;
  fate.textContent = text;
}

function showTitle() {
  const base = me === null ? "Chat" : `Chat: ${me}`;
  document.title = unread > 0 ? `(${unread}) ${base}` : base;
}

function showChat(chat) {
  if (document.visibilityState === "hidden") {
    unread++;
    showTitle();
  }
  addEntry({
    sender: chat.sender,
    own: false,
    to: chat.kind === "from" ? me : null,
    text: chat.content,
  });
}

function showOnline(names) {
  if (names.join("\n") === online.join("\n")) return;
  online = names;
  const focused = document.activeElement?.dataset?.name;
  const items = names.map((name) => {
    const item = element("li");
    if (name === me) {
      item.append(element("span", "person self", `${name} (you)`));
    } else {
      const button = element("button", "person", name);
      button.type = "button";
      button.dataset.name = name;
      button.title = `Write to ${name}`;
      button.addEventListener("click", () => {
        ui.to.value = name;
        ui.message.focus();
      });
      item.append(button);
    }
    return item;
  });
  ui.online.replaceChildren(...items);
  if (focused !== undefined) {
    ui.online.querySelector(`button[data-name="${CSS.escape(focused)}"]`)
      ?.focus();
  }
  showRecipients(names.filter((name) => name !== me));
}

function showRecipients(others) {
  const chosen = ui.to.value;
  const options = [new Option("Everyone", "")];
  for (const name of others) options.push(new Option(name, name));
  if (chosen !== "" && !others.includes(chosen)) {
    // Never switch a private message to everyone behind the user's back.
    options.push(new Option(`${chosen} (offline)`, chosen));
  }
  ui.to.replaceChildren(...options);
  ui.to.value = chosen;
}

function scheduleList() {
  clearTimeout(listTimer);
  if (me === null) return;
  const every = document.visibilityState === "hidden"
    ? LIST_EVERY_HIDDEN_MS
    : LIST_EVERY_MS;
  // A long list costs the server more: ask for it less often.
  listTimer = setTimeout(refreshList, Math.max(every, online.length * 2));
}

async function refreshList() {
  if (me === null || listPending) return;
  listPending = true;
  const reply = await command({ op: "list" });
  listPending = false;
  if (me !== null && reply?.code === 301) showOnline(reply.names);
  scheduleList();
}

function enterChat(user) {
  me = user;
  online = [];
  ui.log.replaceChildren();
  ui.online.replaceChildren();
  showRecipients([]);
  ui.password.value = "";
  ui.loginError.textContent = "";
  ui.composeError.textContent = "";
  ui.whoami.textContent = `Logged in as ${user}`;
  ui.whoami.hidden = false;
  ui.logout.hidden = false;
  ui.logout.disabled = false;
  ui.loginView.hidden = true;
  ui.chatView.hidden = false;
  document.body.dataset.state = "chat";
  unread = 0;
  showTitle();
  showStatus("");
  refreshList();
  ui.message.focus();
}

function leaveChat(why) {
  me = null;
  clearTimeout(listTimer);
  ui.whoami.hidden = true;
  ui.logout.hidden = true;
  ui.chatView.hidden = true;
  ui.loginView.hidden = false;
  document.body.dataset.state = "login";
  unread = 0;
  showTitle();
  showStatus(why);
  (ui.user.value === "" ? ui.user : ui.password).focus();
}

ui.loginForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const user = ui.user.value.trim();
  const password = ui.password.value;
  if (user === "" || password === "") {
    ui.loginError.textContent = "Enter your user name and password.";
    (user === "" ? ui.user : ui.password).focus();
    return;
  }
  if (/\s/.test(user) || /\s/.test(password)) {
    ui.loginError.textContent =
      "User names and passwords have no spaces in them.";
    return;
  }
  ui.loginButton.disabled = true;
  ui.loginError.textContent = "";
  showStatus("Logging in…");
  let reply = null;
  try {
    if (socket === null) await connect();
    reply = await command({ op: "login", user, password });
  } catch (error) {
    ui.loginError.textContent = `Cannot log in: ${error.message}.`;
  }
  ui.loginButton.disabled = false;
  showStatus("");
  if (reply?.code === 101) {
    enterChat(user);
  } else if (reply?.code === 102) {
    ui.loginError.textContent =
      "Wrong user name or password, or that user is already logged in.";
    ui.password.value = "";
    ui.password.focus();
  } else if (reply !== null) {
    ui.loginError.textContent = `The server said: ${reply.reply}`;
  } else if (ui.loginError.textContent === "") {
    ui.loginError.textContent = closeReason
      ? `The server closed the connection: ${closeReason}.`
      : "The connection closed. Try again.";
  }
});

ui.compose.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = ui.message.value;
  if (text.trim() === "") {
    ui.composeError.textContent = "Write a message first.";
    ui.message.focus();
    return;
  }
  const bytes = encoder.encode(text).length;
  if (bytes > maxLineBytes) {
    ui.composeError.textContent =
      `That message is ${bytes} bytes long; the most is ${maxLineBytes}.`;
    return;
  }
  ui.composeError.textContent = "";
  const to = ui.to.value;
  const entry = addEntry({ sender: me, own: true, to: to || null, text });
  setFate(entry, "sending…", "pending");
  ui.message.value = "";
  ui.message.focus();
  const reply = await command(
    to ? { op: "to", to, text } : { op: "toall", text },
  );
  if (reply?.code === 303) {
    setFate(entry, to ? "delivered" : "delivered to everyone", "delivered");
  } else if (reply?.code === 304) {
    setFate(
      entry,
      to ? `not delivered: ${to} did not get it` : "not delivered to everyone",
      "failed",
    );
  } else {
    setFate(
      entry,
      reply ? `not sent: ${reply.reply}` : "not sent: the connection closed",
      "failed",
    );
  }
});

ui.logout.addEventListener("click", async () => {
  ui.logout.disabled = true;
  // Off the page's books first: the close that follows is expected.
  me = null;
  await command({ op: "exit" });
  socket?.close();
  leaveChat("You have logged out.");
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    unread = 0;
    showTitle();
    refreshList();
  } else {
    scheduleList();
  }
});

ui.user.focus();
