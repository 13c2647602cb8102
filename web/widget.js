/*
 * A small, accessible chat widget for Rasa 3.6's socket.io channel.
 *
 * - Session persistence: the session id and the transcript are kept in
 *   localStorage, so the same conversation continues across reloads and pages.
 * - Safety: bot text is never parsed as HTML. Text nodes are created with
 *   textContent; only http(s) links (bare or markdown [title](url)) become <a>.
 * - Accessibility: new messages are announced through an aria-live region;
 *   the input and buttons are labelled; everything works from the keyboard.
 */
(function () {
  "use strict";

  var config = window.FAQBOT_CONFIG || { socketUrl: "http://localhost:5005" };
  var STORAGE_SESSION = "faqbot.session_id";
  var STORAGE_LOG = "faqbot.transcript";
  var STORAGE_OPEN = "faqbot.open";
  var TYPING_TIMEOUT_MS = 15000;
  var MAX_MESSAGE_LENGTH = 1000;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // Turn bot text into safe DOM: paragraphs/lines, with http(s) links only.
  var LINK = /\[([^\]\n]{1,300})\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?])/g;
  function renderText(container, text) {
    String(text).split("\n").forEach(function (line, index) {
      if (index > 0) container.appendChild(document.createElement("br"));
      var last = 0;
      var match;
      LINK.lastIndex = 0;
      while ((match = LINK.exec(line)) !== null) {
        if (match.index > last) container.appendChild(document.createTextNode(line.slice(last, match.index)));
        var url = match[2] || match[3];
        var link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", text: match[1] || url });
        container.appendChild(link);
        last = match.index + match[0].length;
      }
      if (last < line.length) container.appendChild(document.createTextNode(line.slice(last)));
    });
  }

  function load(key, fallback) {
    try { var value = localStorage.getItem(key); return value === null ? fallback : JSON.parse(value); }
    catch (error) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (error) { /* storage full or off */ }
  }

  // ------------------------------------------------------------ DOM
  var launcher = el("button", {
    type: "button", className: "faqbot-launcher", "aria-expanded": "false",
    "aria-controls": "faqbot-panel", text: "Chat with us",
  });
  var log = el("div", { className: "faqbot-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", id: "faqbot-log", tabindex: "0", "aria-label": "Conversation" });
  var typing = el("p", { className: "faqbot-typing", hidden: "hidden", text: "The assistant is typing…" });
  var input = el("input", { type: "text", id: "faqbot-input", className: "faqbot-input", autocomplete: "off", maxlength: String(MAX_MESSAGE_LENGTH) });
  var inputLabel = el("label", { for: "faqbot-input", className: "faqbot-visually-hidden", text: "Type your question" });
  var send = el("button", { type: "submit", className: "faqbot-send", text: "Send" });
  var form = el("form", { className: "faqbot-form", "aria-label": "Send a message" }, [inputLabel, input, send]);
  var restart = el("button", { type: "button", className: "faqbot-restart", text: "Restart" });
  var close = el("button", { type: "button", className: "faqbot-close", "aria-label": "Close chat", text: "×" });
  var status = el("p", { className: "faqbot-status", role: "status", text: "" });
  var title = el("h2", { className: "faqbot-title", id: "faqbot-title", text: "Headache treatment questions" });
  var header = el("div", { className: "faqbot-header" }, [title, restart, close]);
  var panel = el("section", { className: "faqbot-panel", id: "faqbot-panel", role: "dialog", "aria-labelledby": "faqbot-title", hidden: "hidden" },
    [header, status, log, typing, form]);
  document.body.appendChild(launcher);
  document.body.appendChild(panel);

  // ------------------------------------------------------------ transcript
  var transcript = load(STORAGE_LOG, []);

  function addMessage(message, persist) {
    var item = el("div", { className: "faqbot-msg faqbot-" + message.from });
    var who = el("span", { className: "faqbot-visually-hidden", text: message.from === "user" ? "You said: " : "Assistant: " });
    item.appendChild(who);
    var body = el("div", { className: "faqbot-text" });
    renderText(body, message.text || "");
    item.appendChild(body);
    if (message.buttons && message.buttons.length && message.from === "bot") {
      var group = el("div", { className: "faqbot-buttons", role: "group", "aria-label": "Suggested replies" });
      message.buttons.forEach(function (button) {
        var choice = el("button", { type: "button", className: "faqbot-choice", text: button.title });
        choice.dataset.payload = button.payload;
        choice.addEventListener("click", function () { sendMessage(button.payload, button.title); });
        group.appendChild(choice);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (persist) {
      transcript.push(message);
      if (transcript.length > 200) transcript = transcript.slice(-200);
      save(STORAGE_LOG, transcript);
    }
  }
  transcript.forEach(function (message) { addMessage(message, false); });

  // ------------------------------------------------------------ socket.io
  var sessionId = load(STORAGE_SESSION, null);
  var typingTimer = null;
  var socket = window.io(config.socketUrl, { transports: ["websocket", "polling"], autoConnect: false });

  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
  }

  socket.on("connect", function () {
    status.textContent = "";
    socket.emit("session_request", { session_id: sessionId });
  });
  socket.on("session_confirm", function (data) {
    var confirmed = data && (data.session_id || data);
    if (typeof confirmed === "string") {
      var isNew = confirmed !== sessionId;
      sessionId = confirmed;
      save(STORAGE_SESSION, sessionId);
      if (isNew && transcript.length === 0) sendMessage("/greet", null);
    }
  });
  socket.on("connect_error", function () { status.textContent = "Connecting to the assistant…"; });
  socket.on("disconnect", function () { status.textContent = "Connection lost. Reconnecting…"; });
  socket.on("bot_uttered", function (data) {
    setTyping(false);
    var buttons = (data && (data.quick_replies || data.buttons)) || [];
    addMessage({ from: "bot", text: (data && data.text) || "", buttons: buttons }, true);
  });

  function sendMessage(payload, shownText) {
    var text = String(payload || "").trim();
    if (!text || !sessionId) return;
    if (shownText !== null) addMessage({ from: "user", text: shownText || text }, true);
    socket.emit("user_uttered", { message: text.slice(0, MAX_MESSAGE_LENGTH), session_id: sessionId });
    setTyping(true);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    sendMessage(text, text);
    input.focus();
  });

  // ------------------------------------------------------------ open / close / restart
  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    save(STORAGE_OPEN, open);
    if (open) {
      if (!socket.connected) socket.connect();
      input.focus();
    } else {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") setOpen(false); });
  restart.addEventListener("click", function () {
    transcript = [];
    save(STORAGE_LOG, transcript);
    while (log.firstChild) log.removeChild(log.firstChild);
    sessionId = null;
    save(STORAGE_SESSION, null);
    socket.disconnect();
    socket.connect();
    input.focus();
  });

  if (load(STORAGE_OPEN, false)) setOpen(true);
})();
